-- The seed scenario: a base table and its gray shadow in database mse_demo.
CREATE DATABASE IF NOT EXISTS mse_demo;
USE mse_demo;
CREATE TABLE IF NOT EXISTS mse_demo_table (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  location VARCHAR(255) NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS mse_demo_table_gray LIKE mse_demo_table;
-- Shared reference data and an unmapped table for refusal demos.
CREATE TABLE IF NOT EXISTS mse_orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  item VARCHAR(255) NOT NULL
) ENGINE=InnoDB;
CREATE DATABASE IF NOT EXISTS mse_demo_gray;
CREATE TABLE IF NOT EXISTS mse_demo_gray.mse_demo_table LIKE mse_demo.mse_demo_table;
