#!/bin/sh
# Temporal's own schema for PostgreSQL, applied with temporal-sql-tool from
# the admin-tools image of the server's release, before the server starts:
# the temporal (persistence) and temporal_visibility databases. Each step
# does nothing when already done (the databases exist, the schema is at the
# release's version), so this runs on every `docker compose up`, and after a
# server upgrade it applies the new release's schema changes.
#
# The connection comes from temporal-sql-tool's own variables: SQL_PLUGIN,
# SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD.
set -eu

# Where the admin-tools image keeps the schema, by store.
schema=${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

for pair in temporal:temporal visibility:temporal_visibility; do
	store=${pair%%:*}
	db=${pair#*:}
	temporal-sql-tool --db "$db" create-database
	# Version 0.0 only creates the schema_version tables; update-schema
	# then applies every versioned step up to the release's.
	temporal-sql-tool --db "$db" setup-schema -v 0.0
	temporal-sql-tool --db "$db" update-schema -d "$schema/$store/versioned"
	echo "database $db: Temporal schema up to date"
done
