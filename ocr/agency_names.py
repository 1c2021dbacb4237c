"""Restore the diacritics OCR drops from upper-case agency lines ("CUC QUAN LÝ THỊ TRUONG TINH QUANG NINH").

Tesseract reads bold capitals with their accents less reliably than body text, and the cover's
agency and unit lines are exactly that. Their vocabulary is closed: the official words of state agency
names (Tổng cục, Cục, Chi cục, Đội Quản lý thị trường số N, Bộ Công Thương…) and the names of the
provinces. So each run of words whose folded form is in that vocabulary is replaced by its spelling
with diacritics; anything else (an unusual unit name) keeps the letters OCR read.
"""

from __future__ import annotations

from ocr.text import fold

# Words and phrases of Vietnamese state agency names, as printed in capitals.
_AGENCY_WORDS = (
    "TỔNG CỤC",
    "CHI CỤC",
    "CỤC",
    "ĐỘI",
    "QUẢN LÝ THỊ TRƯỜNG",
    "QUẢN LÝ",
    "THỊ TRƯỜNG",
    "BỘ CÔNG THƯƠNG",
    "BỘ",
    "CÔNG THƯƠNG",
    "SỞ",
    "PHÒNG",
    "NGHIỆP VỤ",
    "TỔNG HỢP",
    "THANH TRA",
    "KIỂM TRA",
    "CƠ ĐỘNG",
    "CHUYÊN NGÀNH",
    "LIÊN NGÀNH",
    "VĂN PHÒNG",
    "SỐ",
    "TỈNH",
    "THÀNH PHỐ",
    "HUYỆN",
    "THỊ XÃ",
    "QUẬN",
    "ỦY BAN NHÂN DÂN",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
)
# The 63 provinces and centrally governed cities (before the 2025 merger; the merged ones keep these names).
PROVINCES = (
    "AN GIANG",
    "BÀ RỊA - VŨNG TÀU",
    "BẮC GIANG",
    "BẮC KẠN",
    "BẠC LIÊU",
    "BẮC NINH",
    "BẾN TRE",
    "BÌNH ĐỊNH",
    "BÌNH DƯƠNG",
    "BÌNH PHƯỚC",
    "BÌNH THUẬN",
    "CÀ MAU",
    "CẦN THƠ",
    "CAO BẰNG",
    "ĐÀ NẴNG",
    "ĐẮK LẮK",
    "ĐẮK NÔNG",
    "ĐIỆN BIÊN",
    "ĐỒNG NAI",
    "ĐỒNG THÁP",
    "GIA LAI",
    "HÀ GIANG",
    "HÀ NAM",
    "HÀ NỘI",
    "HÀ TĨNH",
    "HẢI DƯƠNG",
    "HẢI PHÒNG",
    "HẬU GIANG",
    "HÒA BÌNH",
    "HỒ CHÍ MINH",
    "HƯNG YÊN",
    "KHÁNH HÒA",
    "KIÊN GIANG",
    "KON TUM",
    "LAI CHÂU",
    "LÂM ĐỒNG",
    "LẠNG SƠN",
    "LÀO CAI",
    "LONG AN",
    "NAM ĐỊNH",
    "NGHỆ AN",
    "NINH BÌNH",
    "NINH THUẬN",
    "PHÚ THỌ",
    "PHÚ YÊN",
    "QUẢNG BÌNH",
    "QUẢNG NAM",
    "QUẢNG NGÃI",
    "QUẢNG NINH",
    "QUẢNG TRỊ",
    "SÓC TRĂNG",
    "SƠN LA",
    "TÂY NINH",
    "THÁI BÌNH",
    "THÁI NGUYÊN",
    "THANH HÓA",
    "THỪA THIÊN HUẾ",
    "TIỀN GIANG",
    "TRÀ VINH",
    "TUYÊN QUANG",
    "VĨNH LONG",
    "VĨNH PHÚC",
    "YÊN BÁI",
)
_PUNCTUATION = ".,:;|_'\"`"
# Digits OCR makes of accented capitals ("SỐ" read as "S6"); only swapped inside words that have letters.
_LETTER_LOOKALIKES = str.maketrans({"0": "o", "6": "o", "1": "i", "5": "s", "8": "b"})


class PhraseBook:
    """Known phrases by their folded words: respells the runs of a line that match one, longest first."""

    def __init__(self, phrases: tuple[str, ...], min_words: int = 1) -> None:
        self._phrases = {tuple(fold(phrase).replace(" - ", " ").split()): phrase for phrase in phrases}
        self._longest = max(len(words) for words in self._phrases)
        self._min_words = min_words

    def restore(self, words: list[str]) -> list[str]:
        """`words` with every run whose folded form is a known phrase replaced by that phrase."""
        folded = [_as_letters(fold(word)) for word in words]
        restored: list[str] = []
        index = 0
        while index < len(words):
            for size in range(min(self._longest, len(words) - index), self._min_words - 1, -1):
                phrase = self._phrases.get(tuple(folded[index : index + size]))
                if phrase is not None:
                    restored.append(phrase)
                    index += size
                    break
            else:
                restored.append(words[index])
                index += 1
        return restored


_AGENCY_BOOK = PhraseBook(_AGENCY_WORDS + PROVINCES)


def _as_letters(word: str) -> str:
    return word.translate(_LETTER_LOOKALIKES) if any(char.isalpha() for char in word) else word


def restore_agency_line(line: str) -> str:
    """`line` with every known word run spelled with its diacritics, when the line is in capitals.

    Runs are matched longest first on folded words, so "QUAN LY THI TRUONG" becomes "QUẢN LÝ THỊ
    TRƯỜNG" as a whole and a province name is never split. Unknown words are kept as read. A line in
    mixed case is body text, which OCR reads with its accents: it is returned as read.
    """
    words = [word.strip(_PUNCTUATION) for word in line.split()]
    words = [word for word in words if word and word != "-"]
    if " ".join(words).upper() != " ".join(words):
        return " ".join(words)
    return " ".join(_AGENCY_BOOK.restore(words))
