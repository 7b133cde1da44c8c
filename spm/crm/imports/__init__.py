"""CRM data import from CSV and XLSX: read, check every cell, preview, apply all or nothing.

reading (bytes -> text table), fields (kinds and header aliases), cleaning (vectorised cell
checks), validation (references and rows), service (batches), export (safe CSV out).
"""
