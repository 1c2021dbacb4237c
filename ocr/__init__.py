"""Turn scanned pages into facts: text, words, orientation, sheet number, role and document type.

Pure functions over images and PDFs; this package imports nothing else of hoso. Entry points:
`ocr.page.read_page` for one PDF page, `ocr.classify`, `ocr.cover` and `ocr.sheet_number` for the
pieces it is built from.
"""
