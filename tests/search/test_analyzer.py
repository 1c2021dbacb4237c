"""Unit tests of the Vietnamese analyzer: the rules every backend and the query parser rely on."""

import unicodedata

import pytest

from search.analyzer import fold, normalise, tokens


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_nfd_and_nfc_input_normalise_alike() -> None:
    assert normalise(nfd("Biên bản vi phạm")) == normalise("Biên bản vi phạm") == "biên bản vi phạm"


def test_normalise_returns_nfc() -> None:
    assert unicodedata.is_normalized("NFC", normalise(nfd("Quyết định xử phạt")))


def test_icelandic_eth_is_read_as_vietnamese_d() -> None:
    assert normalise("ÐỘI QUẢN LÝ") == normalise("ĐỘI QUẢN LÝ") == "đội quản lý"
    assert fold("Ðội") == "doi"


def test_case_is_folded() -> None:
    assert normalise("HÀNG GIẢ") == normalise("Hàng Giả") == "hàng giả"


@pytest.mark.parametrize(
    ("old_style", "new_style"),
    [("hòa", "hoà"), ("thủy", "thuỷ"), ("hòe", "hoè"), ("Cộng Hòa", "Cộng Hoà"), ("khỏe", "khoẻ")],
)
def test_tone_placement_variants_are_unified(old_style: str, new_style: str) -> None:
    assert normalise(old_style) == normalise(new_style)
    assert normalise(nfd(new_style)) == normalise(old_style)


@pytest.mark.parametrize("word", ["hoàng", "người", "quý", "giữa", "gì", "ngoài", "của", "huỳnh", "thuyền"])
def test_correctly_placed_tones_are_left_alone(word: str) -> None:
    assert normalise(word) == word


def test_fold_removes_diacritics_and_d_stroke() -> None:
    assert fold("Biên bản") == "bien ban"
    assert fold("Đội Quản lý thị trường") == "doi quan ly thi truong"
    assert fold("bán") == fold("bàn") == "ban"


def test_tokens_are_syllables() -> None:
    assert tokens("Biên bản, vi phạm.") == ["biên", "bản", "vi", "phạm"]


def test_identifiers_are_tokens_whole_and_in_parts() -> None:
    assert tokens("số 194/QĐ-KT") == ["số", "194/qđ-kt", "194", "qđ", "kt"]
    assert tokens("MST 0101234567-001") == ["mst", "0101234567-001", "0101234567", "001"]
    assert tokens("0101234567") == ["0101234567"]


def test_tokens_accept_nfd_and_eth() -> None:
    assert tokens(nfd("Ðội QLTT")) == ["đội", "qltt"]


def test_words_equal_word_by_word_normalisation_when_lengths_change() -> None:
    """ "ß" case-folds to "ss": the text is then analysed word by word, with the same tokens and offsets."""
    from search.analyzer import words

    text = "Straße 194/QĐ-KT hoà"
    found = [(word.whole.token, word.whole.start, [part.token for part in word.parts]) for word in words(text)]
    assert found == [("strasse", 0, ["strasse"]), ("194/qđ-kt", 7, ["194", "qđ", "kt"]), ("hòa", 17, ["hòa"])]
