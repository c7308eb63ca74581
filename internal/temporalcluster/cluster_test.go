package temporalcluster

import (
	"context"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/server/schema"
	v12 "go.temporal.io/server/schema/postgresql/v12"

	"pacto/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestParseDatabaseURL(t *testing.T) {
	d, err := ParseDatabaseURL("postgres://temporal:s%40cret@db.example:6432/temporal?sslmode=verify-full&application_name=t")
	if err != nil {
		t.Fatal(err)
	}
	if d.Addr != "db.example:6432" || d.User != "temporal" || d.Password != "s@cret" || d.Name != "temporal" ||
		d.Attrs["sslmode"] != "verify-full" || d.Attrs["application_name"] != "t" || len(d.Attrs) != 2 {
		t.Fatalf("parsed %+v", d)
	}
	if d, err := ParseDatabaseURL("postgresql://u@localhost/db"); err != nil || d.Addr != "localhost:5432" {
		t.Fatalf("without a port: %+v %v", d, err)
	}
	for _, bad := range []string{
		"mysql://u@h:3306/db",          // not PostgreSQL
		"postgres://u@h:5432",          // no database
		"postgres://u@h:5432/db/extra", // not a database name
		"postgres:///db",               // no host: a socket the plugin cannot dial
		"postgres://u@h/db?sslmode=disable&sslmode=require",
		"::not a url",
	} {
		if _, err := ParseDatabaseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The server's SQL tooling brings empty databases to the schema versions
// this server needs, and running it again changes nothing.
func TestApplySchemaTwice(t *testing.T) {
	ctx := context.Background()
	urls := []string{pgtest.NewDatabase(t), pgtest.NewDatabase(t)}
	var dbs []Database
	for _, u := range urls {
		d, err := ParseDatabaseURL(u)
		if err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, d)
	}
	for range 2 {
		if err := ApplySchema(dbs[0], dbs[1]); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []struct{ version, schema string }{{v12.Version, persistenceSchema}, {v12.VisibilityVersion, visibilitySchema}} {
		steps, err := fs.ReadDir(schema.Assets(), want.schema+"/versioned")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, urls[i])
		if err != nil {
			t.Fatal(err)
		}
		var version string
		var updates int
		err = conn.QueryRow(ctx, "SELECT curr_version, (SELECT count(*) FROM schema_update_history) FROM schema_version").Scan(&version, &updates)
		conn.Close(ctx)
		if err != nil || version != want.version {
			t.Fatalf("database %d is at schema version %q (%v), want %s", i, version, err, want.version)
		}
		// The initial version, then each versioned step once.
		if updates != 1+len(steps) {
			t.Errorf("database %d records %d schema updates, want %d", i, updates, 1+len(steps))
		}
	}
}
