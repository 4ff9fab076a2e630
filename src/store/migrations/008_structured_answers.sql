-- 008: structured answers (DESIGN.md, "Structured answers").
--
-- A request may carry the form its decisions fill (`response_schema`, JSON, NULL when it has
-- none); a decision carries what was filled in (`response`, JSON, NULL when none).
ALTER TABLE requests ADD COLUMN response_schema TEXT;
ALTER TABLE decisions ADD COLUMN response TEXT;
