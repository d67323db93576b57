"""Sales source: daily POS / e-commerce CSV exports dropped in a landing folder or bucket.

dlt's ``filesystem`` resource lists the files (a local folder, or ``az://`` / ``s3://`` when
configured); a transformer reads each new file with Arrow, keeping every value as text exactly
as delivered. The resource state remembers every file by name, size, modification time and
content hash: an unchanged file is not read again, and a file whose content was already
loaded (a re-delivery under the same or another name) adds no rows, only a
``delivered_files`` row with ``status = 'duplicate'``. Lines that are not valid CSV records
land in ``rejected_lines`` with the reason, so nothing is lost.
"""

from __future__ import annotations

from ingestion.sales.source import sales_source

__all__ = ["sales_source"]
