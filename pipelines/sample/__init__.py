"""The sample world behind ``mdm generate --entities N --seed S --out DIR`` (never imported by a run).

It invents ``N`` legal entities (``E0000001`` ...) in corporate groups across CN, GB, US and a few
other countries and writes what the real sources would hold about them, in their real formats:

========================== ==============================================================
``registry/gleif_lei2.xml`` GLEIF LEI-CDF 3.1 level-1 records (entities with an LEI)
``registry/gleif_rr.xml``   GLEIF RR-CDF level-2 parent relationships between LEI holders
``registry/cn_registry.csv`` Chinese enterprise register extract (企业名称, 统一社会信用代码, ...)
``registry/uk_basiccompany.csv`` Companies House BasicCompanyData (55 columns)
``financials/sub.txt`` ``num.txt`` SEC Financial Statement Data Set (several filings per CIK)
``internal/crm.sqlite``     the bank's CRM: customers, accounts, monthly balances
``truth.csv``               which entity every organisation record belongs to
``mdm.yaml``                a pipeline config reading all of the above
========================== ==============================================================

The records of one entity differ the way real ones do (legal-form spellings, abbreviations, case,
typos, traditional characters, bracket widths, former names, stale addresses, missing or mistyped
identifiers, CRM duplicates), and group members share name stems and addresses while being
different entities, so a matcher cannot cheat. Names are unique in the world by construction: a
group's (stem, industry) pair is drawn without replacement from a large combinatorial space via an
affine bijection, and group members add a qualifier unique within the group.

Everything is streamed in blocks of groups (bounded memory); all randomness comes from one
``random.Random(seed)``, so the same seed gives byte-identical files (and identical SQLite tables).

Modules, one idea each: ``pools`` (reference pools), ``entities`` (Entity, Address), ``spaces`` (draws
without replacement), ``world`` (groups of entities), ``gleif``, ``registers``, ``sec`` and ``crm`` (the
records each source holds), ``crm_db`` (the CRM SQLite database), ``mdm_yaml`` (the config written next to
the sample), ``generator`` (``generate``: blocks, shuffling, files), ``synth`` (identifiers with valid check
digits, name variants). The product run never imports this package.

Hard-coded reference codes (looked up when this was written, not read at runtime):
ELF codes from the ISO 20275 list v1.5: GB H0PO private limited, B6ES PLC, Z0EY LLP; US-DE XTIQ
corporation, HZEH LLC; US-CA H1UM corporation, EI4J LLC; DE 2HBR GmbH, 6QQB AG; FR 6CHY SAS,
V9QP SARL, K65D SA; HK 254M private company limited by shares; SG LWXI; JP T417 株式会社;
CN ECAK 企业. Registration authorities seen in GLEIF golden-copy data: RA000585 Companies House,
RA000602 Delaware, RA000598 California, RA000189 French SIREN register, RA000388 Hong Kong
Companies Registry, several German local courts (RA000217 ... RA000355; the court-to-city pairing
here is arbitrary). RA000092 for China's SAMR/GSXT comes from third-party code, not from a GLEIF
file we hold. SG and JP entities use RA999999 (registration authority not known).
"""

from __future__ import annotations

from pipelines.sample.generator import OutputFolderNotEmpty, generate

__all__ = ["OutputFolderNotEmpty", "generate"]
