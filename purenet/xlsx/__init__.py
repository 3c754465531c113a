"""Spreadsheets of the network's numbers (needs openpyxl 3.1.5: ``pip install purenet[xlsx]``).

    book.py    the conventions every purenet workbook shares: colours per kind
               of cell, labelled blocks, formulas with cached values,
               byte-reproducible saving
    trace.py   the four backprop trace workbooks of ``purenet export-xlsx``

Nothing outside this package imports openpyxl, and this package is imported
only by the commands that write workbooks, so the rest of purenet runs on
the standard library alone.
"""
