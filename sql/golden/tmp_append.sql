-- One survive batch's golden records and lineage (Arrow tables survived_golden, survived_lineage) appended.
INSERT INTO tmp_golden SELECT * FROM survived_golden;
INSERT INTO tmp_lineage SELECT * FROM survived_lineage;
