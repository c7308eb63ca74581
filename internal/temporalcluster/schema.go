package temporalcluster

import (
	"fmt"

	"go.temporal.io/server/common/log"
	toolschema "go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// The server's embedded PostgreSQL schemas, as temporal-sql-tool names them.
const (
	persistenceSchema = "postgresql/v12/temporal"
	visibilitySchema  = "postgresql/v12/visibility"
)

// ApplySchema brings both databases to the schema this server version
// needs, the way an operator does with temporal-sql-tool before a release:
// setup-schema at version 0.0 (the version tables), then update-schema
// through every versioned step of the server's embedded schema. Both steps
// are the server's own tooling, and both are safe to repeat: a database
// already at the latest version is left as it is.
func ApplySchema(persistence, visibility Database) error {
	for _, s := range []struct {
		db     Database
		schema string
	}{{persistence, persistenceSchema}, {visibility, visibilitySchema}} {
		if err := applySchema(s.db, s.schema); err != nil {
			return fmt.Errorf("apply schema %s to database %s: %w", s.schema, s.db.Name, err)
		}
	}
	return nil
}

func applySchema(db Database, schema string) error {
	logger := log.NewNoopLogger()
	conn, err := sqltool.NewConnection(db.sql(1), logger)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	setup := toolschema.NewSetupSchemaTask(conn, &toolschema.SetupConfig{InitialVersion: "0.0"}, logger)
	if err := setup.Run(); err != nil {
		return fmt.Errorf("setup-schema: %w", err)
	}
	update := toolschema.NewUpdateSchemaTask(conn, &toolschema.UpdateConfig{DBName: db.Name, SchemaName: schema}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("update-schema: %w", err)
	}
	return nil
}
