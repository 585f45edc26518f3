-- The seed scenario: a base table and its gray shadow (each with its own sequence).
CREATE TABLE IF NOT EXISTS mse_demo_table (
  id BIGSERIAL PRIMARY KEY,
  location VARCHAR(255) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS mse_demo_table_gray (
  id BIGSERIAL PRIMARY KEY,
  location VARCHAR(255) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS mse_orders (
  id BIGSERIAL PRIMARY KEY,
  item VARCHAR(255) NOT NULL
);
