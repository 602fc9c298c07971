"""The sharing service's personal data in MongoDB: read for an export (``export``), erased
(``erase``), and the record of each erasure request (``requests``)."""
