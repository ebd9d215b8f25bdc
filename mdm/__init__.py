"""Domain core of the MDM pipeline: standardisation, matching, clustering, golden ids, survivorship.

Pure and typed; it never imports Airflow and does no I/O beyond what its callers hand it.
"""

__version__ = "0.1.0"
