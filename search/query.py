"""The query language users type, parsed into a small engine-neutral tree.

Parsing here rather than in the engine keeps one analyzer for documents and queries, gives every backend
the same semantics, and lets us explain a malformed query in plain English instead of leaking an
engine error. Grammar (OR binds tighter than AND, as in web search engines):

    query       := conjunction
    conjunction := disjunction ( [AND] disjunction )*
    disjunction := unary ( OR unary )*
    unary       := ( NOT | "-" ) unary | "+"? atom
    atom        := "(" conjunction ")" | "phrase" | word | word*

AND, OR and NOT are operators only in capitals. Quotes may be straight or curly.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from search.analyzer import strip_marks, words
from search.index import QuerySyntaxError

MIN_PREFIX_CHARS = 2
_QUOTES = '"\u201c\u201d'
_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class Term:
    """One normalised token; `prefix` matches every token that starts with it."""

    token: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    """Normalised syllables that must follow each other (at least two)."""

    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Conjunction:
    """Every positive clause must match and no `Exclusion` may; at least one clause is positive."""

    clauses: tuple["Node", ...]


@dataclass(frozen=True)
class Disjunction:
    clauses: tuple["Node", ...]


@dataclass(frozen=True)
class Exclusion:
    """A clause that must not match; only ever a direct clause of a `Conjunction`."""

    clause: "Node"


Node = Term | Phrase | Conjunction | Disjunction | Exclusion


@dataclass(frozen=True)
class Highlight:
    """The tokens a result page should show marked, in exact and folded form."""

    exact: frozenset[str]
    folded: frozenset[str]
    exact_prefixes: tuple[str, ...]
    folded_prefixes: tuple[str, ...]

    def matches(self, token: str) -> bool:
        """Whether a normalised token of the page is one the query looked for."""
        folded = strip_marks(token)
        return (
            token in self.exact
            or folded in self.folded
            or token.startswith(self.exact_prefixes)
            or folded.startswith(self.folded_prefixes)
        )


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # WORD, PHRASE, LPAREN, RPAREN, AND, OR, NOT, END
    text: str
    column: int  # 1-based, for messages


def parse(query: str) -> Node | None:
    """The tree of `query`, or None when it holds nothing searchable. Raises QuerySyntaxError."""
    lexemes = list(_lex(query))
    if len(lexemes) == 1:
        return None
    parser = _Parser(lexemes)
    node = parser.conjunction()
    end = parser.peek()
    if end.kind == "RPAREN":
        raise QuerySyntaxError(f"Unexpected ')' at character {end.column}: there is no '(' for it to close.")
    _check_exclusions(node, inside_conjunction=False)
    return node


def plain_terms(node: Node | None) -> list[str]:
    """The tokens of a query made only of plain words (ANDed, no prefix, phrase or operator), else []:
    the kind of query a "did you mean" can rewrite word by word."""
    if isinstance(node, Term) and not node.prefix:
        return [node.token]
    if isinstance(node, Conjunction) and all(isinstance(c, Term) and not c.prefix for c in node.clauses):
        return [clause.token for clause in node.clauses if isinstance(clause, Term)]
    return []


def highlight_for(node: Node | None) -> Highlight:
    """The tokens to mark in snippets: every term and phrase of the query that is not excluded."""
    exact: set[str] = set()
    prefixes: list[str] = []

    def collect(current: Node) -> None:
        if isinstance(current, Term) and current.prefix:
            prefixes.append(current.token)
        elif isinstance(current, Term):
            exact.add(current.token)
        elif isinstance(current, Phrase):
            exact.update(current.tokens)
        elif isinstance(current, Conjunction | Disjunction):
            for clause in current.clauses:
                collect(clause)

    if node is not None:
        collect(node)
    return Highlight(
        exact=frozenset(exact),
        folded=frozenset(strip_marks(token) for token in exact),
        exact_prefixes=tuple(prefixes),
        folded_prefixes=tuple(strip_marks(prefix) for prefix in prefixes),
    )


def _lex(query: str) -> Iterator[_Lexeme]:
    position = 0
    length = len(query)
    while position < length:
        char = query[position]
        column = position + 1
        if char.isspace():
            position += 1
        elif char in "()":
            yield _Lexeme("LPAREN" if char == "(" else "RPAREN", char, column)
            position += 1
        elif char in _QUOTES:
            closing = next((i for i in range(position + 1, length) if query[i] in _QUOTES), None)
            if closing is None:
                raise QuerySyntaxError(
                    f"Unbalanced quotation mark at character {column}: a phrase must be closed with '\"'."
                )
            yield _Lexeme("PHRASE", query[position + 1 : closing], column)
            position = closing + 1
        elif char in "-+" and position + 1 < length and _starts_word(query[position + 1]):
            if char == "-":
                yield _Lexeme("NOT", char, column)
            position += 1
        else:
            end = position
            while end < length and _starts_word(query[end]):
                end += 1
            text = query[position:end]
            position = end
            yield _Lexeme(text if text in _OPERATORS else "WORD", text, column)
    yield _Lexeme("END", "", length + 1)


def _starts_word(char: str) -> bool:
    return not char.isspace() and char not in "()" and char not in _QUOTES


class _Parser:
    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self._lexemes = lexemes
        self._index = 0

    def peek(self) -> _Lexeme:
        return self._lexemes[self._index]

    def _take(self) -> _Lexeme:
        lexeme = self._lexemes[self._index]
        self._index += 1
        return lexeme

    def conjunction(self) -> Node | None:
        clauses = [self.disjunction()]
        while self.peek().kind not in ("END", "RPAREN"):
            if self.peek().kind == "AND":
                self._require_operand(self._take())
            clauses.append(self.disjunction())
        return _combine(Conjunction, clauses)

    def disjunction(self) -> Node | None:
        clauses = [self.unary()]
        while self.peek().kind == "OR":
            self._require_operand(self._take())
            clauses.append(self.unary())
        return _combine(Disjunction, clauses)

    def unary(self) -> Node | None:
        if self.peek().kind == "NOT":
            operator = self._take()
            self._require_operand(operator)
            clause = self.unary()
            return Exclusion(clause) if clause is not None else None
        return self._atom()

    def _atom(self) -> Node | None:
        lexeme = self._take()
        if lexeme.kind == "WORD":
            return _word_node(lexeme)
        if lexeme.kind == "PHRASE":
            return _phrase_node(lexeme.text)
        if lexeme.kind == "LPAREN":
            if self.peek().kind == "RPAREN":
                raise QuerySyntaxError(f"Empty parentheses at character {lexeme.column}: put words inside them.")
            inner = self.conjunction() if self.peek().kind != "END" else None
            if self._take().kind != "RPAREN":
                raise QuerySyntaxError(f"The '(' at character {lexeme.column} is never closed with ')'.")
            return inner
        if lexeme.kind == "RPAREN":
            raise QuerySyntaxError(f"Unexpected ')' at character {lexeme.column}: there is no '(' for it to close.")
        raise QuerySyntaxError(
            f"'{lexeme.text}' at character {lexeme.column} must stand between two search words, "
            f"e.g. 'a {lexeme.text} b'."
        )

    def _require_operand(self, operator: _Lexeme) -> None:
        if self.peek().kind in ("END", "RPAREN", "AND", "OR"):
            if operator.kind == "NOT":
                raise QuerySyntaxError(
                    f"'{operator.text}' at character {operator.column} must be followed by a word to exclude."
                )
            raise QuerySyntaxError(
                f"'{operator.text}' at character {operator.column} must stand between two search words, "
                f"e.g. 'a {operator.text} b'."
            )


def _combine(kind: type[Conjunction] | type[Disjunction], clauses: list[Node | None]) -> Node | None:
    present = tuple(clause for clause in clauses if clause is not None)
    if not present:
        return None
    return present[0] if len(present) == 1 else kind(present)


def _word_node(lexeme: _Lexeme) -> Node | None:
    prefix = lexeme.text.endswith("*")
    found = words(lexeme.text.rstrip("*"))
    if prefix and (not found or len(found[-1].whole.token) < MIN_PREFIX_CHARS):
        raise QuerySyntaxError(
            f"The '*' at character {lexeme.column + len(lexeme.text) - 1} needs at least "
            f"{MIN_PREFIX_CHARS} letters before it, e.g. 'hang*'."
        )
    terms: list[Node | None] = [Term(word.whole.token) for word in found[:-1]]
    if found:
        terms.append(Term(found[-1].whole.token, prefix=prefix))
    return _combine(Conjunction, terms)


def _phrase_node(text: str) -> Node | None:
    syllables = tuple(part.token for word in words(text) for part in word.parts)
    if not syllables:
        return None
    return Term(syllables[0]) if len(syllables) == 1 else Phrase(syllables)


def _check_exclusions(node: Node | None, inside_conjunction: bool) -> None:
    """Exclusions only make sense as clauses of an AND that also looks for something."""
    if (isinstance(node, Exclusion) and not inside_conjunction) or (
        isinstance(node, Conjunction) and all(isinstance(clause, Exclusion) for clause in node.clauses)
    ):
        raise QuerySyntaxError(
            "NOT (or '-') can only remove pages from a search that also looks for a word, e.g. 'hàng -giả'."
        )
    if isinstance(node, Conjunction | Disjunction):
        for clause in node.clauses:
            _check_exclusions(clause, inside_conjunction=isinstance(node, Conjunction))
    if isinstance(node, Exclusion):
        _check_exclusions(node.clause, inside_conjunction=False)
