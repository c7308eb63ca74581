package temporalcluster

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/primitives"
)

// Services are the four services of a cluster, one process each.
var Services = []string{
	string(primitives.FrontendService),
	string(primitives.HistoryService),
	string(primitives.MatchingService),
	string(primitives.WorkerService),
}

// Plugin is the SQL persistence plugin the cluster uses for both stores:
// PostgreSQL 12 or later through pgx, the driver Pacto itself uses.
const Plugin = postgresql.PluginNamePGX

// loopback is where every service listens and what it tells the others.
const loopback = "127.0.0.1"

// clusterName is the single cluster's name, persisted on first start.
const clusterName = "active"

// Database is one PostgreSQL database of the cluster.
type Database struct {
	// Addr is host:port.
	Addr     string `json:"addr"`
	User     string `json:"user"`
	Password string `json:"password"`
	Name     string `json:"name"`
	// Attrs are connection parameters passed on to the driver, such as
	// sslmode.
	Attrs map[string]string `json:"attrs,omitempty"`
}

// ParseDatabaseURL reads a postgres:// URL, as Pacto's own
// PACTO_DATABASE_URL, into what the server's SQL plugin takes. Its query
// parameters (sslmode, ...) go to the driver as they are.
func ParseDatabaseURL(raw string) (Database, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Database{}, fmt.Errorf("database URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return Database{}, fmt.Errorf("database URL: scheme %q, want postgres://", u.Scheme)
	}
	d := Database{Addr: u.Host, User: u.User.Username(), Name: strings.TrimPrefix(u.Path, "/"), Attrs: map[string]string{}}
	d.Password, _ = u.User.Password()
	if _, _, err := net.SplitHostPort(d.Addr); err != nil {
		d.Addr = net.JoinHostPort(u.Hostname(), "5432")
	}
	if u.Hostname() == "" || d.Name == "" || strings.Contains(d.Name, "/") {
		return Database{}, fmt.Errorf("database URL: want postgres://user:password@host:port/database")
	}
	for k, v := range u.Query() {
		if len(v) != 1 {
			return Database{}, fmt.Errorf("database URL: parameter %s given %d times", k, len(v))
		}
		d.Attrs[k] = v[0]
	}
	return d, nil
}

// sql is the plugin's configuration for d, with a pool of at most
// maxConns connections.
func (d Database) sql(maxConns int) *config.SQL {
	return &config.SQL{
		PluginName:        Plugin,
		DatabaseName:      d.Name,
		ConnectAddr:       d.Addr,
		ConnectProtocol:   "tcp",
		User:              d.User,
		Password:          d.Password,
		ConnectAttributes: d.Attrs,
		MaxConns:          maxConns,
		MaxIdleConns:      maxConns,
		MaxConnLifetime:   time.Hour,
	}
}

// ports are one service's listeners.
type ports struct {
	GRPC       int `json:"grpc"`
	Membership int `json:"membership"`
}

// spec is everything a service process needs: the whole cluster's
// configuration, as a production deployment shares one configuration file,
// and which service this process runs.
type spec struct {
	Service       string           `json:"service"`
	Persistence   Database         `json:"persistence"`
	Visibility    Database         `json:"visibility"`
	Ports         map[string]ports `json:"ports"`
	HistoryShards int32            `json:"history_shards"`
	LogLevel      string           `json:"log_level"`
}

// frontendAddr is where clients, and the worker service's own client, dial.
func (s spec) frontendAddr() string {
	return net.JoinHostPort(loopback, strconv.Itoa(s.Ports[string(primitives.FrontendService)].GRPC))
}

// serverConfig is the static configuration every service process shares.
func (s spec) serverConfig() *config.Config {
	const store, visibility = "postgres-default", "postgres-visibility"
	cfg := &config.Config{}
	// The services find each other through the gossip ring, seeded from
	// the cluster_membership table, as separate machines would.
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: loopback}
	cfg.Persistence = config.Persistence{
		DefaultStore:     store,
		VisibilityStore:  visibility,
		NumHistoryShards: s.HistoryShards,
		DataStores: map[string]config.DataStore{
			// Sized so that four services stay well within a small
			// server's max_connections.
			store:      {SQL: s.Persistence.sql(10)},
			visibility: {SQL: s.Visibility.sql(4)},
		},
	}
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: s.frontendAddr()},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	cfg.Services = map[string]config.Service{}
	for name, p := range s.Ports {
		cfg.Services[name] = config.Service{RPC: config.RPC{GRPCPort: p.GRPC, MembershipPort: p.Membership, BindOnIP: loopback}}
	}
	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"
	cfg.PublicClient.HostPort = s.frontendAddr()
	return cfg
}

// dynamicConfig leaves the server's defaults as a production deployment
// has them, but for what Pacto needs and what a loopback-only cluster must
// not do.
func dynamicConfig() dynamicconfig.StaticClient {
	set := func(v any) []dynamicconfig.ConstrainedValue { return []dynamicconfig.ConstrainedValue{{Value: v}} }
	return dynamicconfig.StaticClient{
		// Off: the frontend would otherwise report to Temporal's version
		// service every few hours.
		dynamicconfig.EnableServerVersionCheck.Key(): set(false),
		// Pacto's decisions and amendments are workflow Updates. On by
		// default in this server; stated so that it stays so.
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key(): set(true),
	}
}
