-- 0018: what a column's numbers mean, recorded with its metadata.
--
-- unit: the scale of a numeric column's values. 'fraction' (0.691 is 69.1%): values written
-- with a % sign, which DataWarp stores as the fraction Excel holds, or a percentage column
-- (by its header) whose numbers all lie within -1..1, as Excel's percent cells arrive;
-- 'percent' (69.1 is 69.1%): a percentage column whose numbers reach beyond 1, stored as
-- written. NULL when unknown.
-- originals_of: set on a companion column <name>_original; it names the numeric column whose
-- censored values (52+, <5, 100%*) it holds as written, NULL there.
ALTER TABLE datawarp.tbl_column_metadata
    ADD COLUMN unit text,
    ADD COLUMN originals_of text,
    ADD CONSTRAINT column_unit_values CHECK (unit IN ('fraction', 'percent'));
COMMENT ON COLUMN datawarp.tbl_column_metadata.unit IS
    'Scale of a numeric column: fraction (0.691 is 69.1%), percent (69.1 is 69.1%), NULL unknown';
COMMENT ON COLUMN datawarp.tbl_column_metadata.originals_of IS
    'A companion column: the numeric column whose censored values (52+, <5) it holds as written';
