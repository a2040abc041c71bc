-- A conversation's model parameters (ModelParameters): null columns are parameters it does not set. Stop sequences
-- are kept as "<length>:<text>" pairs one after another, so that any character may be in one.
ALTER TABLE parley_conversation ADD COLUMN max_output_tokens INTEGER;
ALTER TABLE parley_conversation ADD COLUMN temperature DOUBLE PRECISION;
ALTER TABLE parley_conversation ADD COLUMN stop_sequences VARCHAR(512);
ALTER TABLE parley_conversation ADD COLUMN response_format VARCHAR(16);
