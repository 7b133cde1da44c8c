"""CRM data import from CSV and XLSX: read, check every cell, preview, apply all or nothing.

reading (bytes -> text table), fields (kinds and header aliases), cleaning (vectorised cell
checks), validation (references and rows), references (people and accounts by id, email or
name), stages (stage values, mappings, CRM defaults), roster (names, managers, roles of a people
file), stage_map (mapping files), options (choices made on upload), service (batches), export
(safe CSV out). docs/import.md describes them for the people who upload files.
"""
