package devserver

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	"pacto/workflows"
)

// internalIP is where the services that only talk to each other listen.
const internalIP = "127.0.0.1"

// ports are the ports of one start.
type ports struct {
	frontend, history, matching, worker int
	// ui is 0 without a UI.
	ui int
	// frontendAddr is where this process dials the frontend.
	frontendAddr string
}

// pickPorts checks the ports the caller asked for and picks free ones for
// the rest. Each free port is found by listening on port 0; all listeners
// stay open until every port is picked, so no two are the same, and are
// closed just before the server binds them. Another process could take one
// in between; the window is a few milliseconds.
//
// A port the caller named is checked the same way, so that "already in
// use" is an error from Start rather than a fatal log from deep inside the
// server.
func pickPorts(o resolved) (ports, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	listen := func(what, ip string, port int) (int, error) {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			return 0, fmt.Errorf("%s port: %w", what, err)
		}
		held = append(held, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	var p ports
	var err error
	if p.frontend, err = listen("frontend", o.ip, o.frontendPort); err != nil {
		return p, err
	}
	for _, s := range []struct {
		name string
		port *int
	}{{"history", &p.history}, {"matching", &p.matching}, {"worker", &p.worker}} {
		if *s.port, err = listen(s.name, internalIP, 0); err != nil {
			return p, err
		}
	}
	switch o.uiPort {
	case 0:
	case AnyPort:
		p.ui, err = listen("UI", o.ip, 0)
	default:
		p.ui, err = listen("UI", o.ip, o.uiPort)
	}
	if err != nil {
		return p, err
	}
	p.frontendAddr = net.JoinHostPort(o.localIP, strconv.Itoa(p.frontend))
	return p, nil
}

// createNamespace registers the namespace in the database before the
// server starts, with Pacto's search attributes already mapped to
// visibility columns: registering it through the API instead would leave
// the first seconds after start to namespace-cache refreshes. A namespace
// already there is left as it is.
func createNamespace(sqlCfg *config.SQL, o resolved) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.namespace, false, workflows.SearchAttributes())
	if err != nil {
		return fmt.Errorf("namespace %s: %w", o.namespace, err)
	}
	ns.Detail.Config.Retention = durationpb.New(o.retention)
	if err := sqliteschema.CreateNamespaces(sqlCfg, ns); err != nil {
		return fmt.Errorf("register namespace %s: %w", o.namespace, err)
	}
	return nil
}

// newTemporal builds the server, not yet started.
func newTemporal(o resolved, p ports, dbs stores, gate *logGate, dc *dynamicconfig.MemoryClient) (srv temporal.Server, err error) {
	cfg := serverConfig(o, p, dbs)
	internal := func(port int) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(internalIP, strconv.Itoa(port)))
	}
	opts := []temporal.ServerOption{
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		// One process runs every service, so each knows where the others
		// are: no gossip ring to join (which takes seconds and stores
		// members in the database, where a killed process would leave
		// stale ones behind) and no membership ports.
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: static.SingleLocalHost(p.frontendAddr),
			primitives.HistoryService:  internal(p.history),
			primitives.MatchingService: internal(p.matching),
			primitives.WorkerService:   internal(p.worker),
		}),
		temporal.WithLogger(&slogLogger{log: o.quiet.With("component", "temporal-server"), gate: gate}),
		temporal.WithDynamicConfigClient(dc),
	}
	defer func() {
		if r := recover(); r != nil {
			srv, err = nil, fmt.Errorf("build Temporal server: panic: %v", r)
		}
	}()
	srv, err = temporal.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("build Temporal server: %w", err)
	}
	return srv, nil
}

// serverConfig is the static configuration of a single dev node.
func serverConfig(o resolved, p ports, dbs stores) *config.Config {
	const store, visibilityStore = "sqlite", "sqlite-visibility"
	cfg := &config.Config{}
	// Unused with static hosts, but the server reads the address.
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 10 * time.Second, BroadcastAddress: internalIP}
	// Global.Metrics stays nil: no Prometheus listener, metrics go nowhere.
	// Global.PProf.Port stays 0: no pprof listener.
	cfg.Persistence = config.Persistence{
		DefaultStore:    store,
		VisibilityStore: visibilityStore,
		// One shard is plenty for one developer, and each shard costs
		// goroutines and memory. It is persisted on first start and cannot
		// change afterwards.
		NumHistoryShards: 1,
		DataStores: map[string]config.DataStore{
			store:           {SQL: dbs.persistence},
			visibilityStore: {SQL: dbs.visibility},
		},
	}
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				// Updated in the database on each start, as the port may
				// change between starts.
				RPCAddress: p.frontendAddr,
			},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	service := func(ip string, port int) config.Service {
		// HTTPPort stays 0: no HTTP API (Pacto and the UI use gRPC).
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: ip}}
	}
	cfg.Services = map[string]config.Service{
		string(primitives.FrontendService): service(o.ip, p.frontend),
		string(primitives.HistoryService):  service(internalIP, p.history),
		string(primitives.MatchingService): service(internalIP, p.matching),
		string(primitives.WorkerService):   service(internalIP, p.worker),
	}
	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The worker service's own SDK client (system workflows) dials this.
	cfg.PublicClient.HostPort = p.frontendAddr
	return cfg
}

// historyCacheSize is how many workflows' state the history service keeps
// in memory.
const historyCacheSize = 1000

// shardReadsPerSecond bounds how often the one history shard reads each of
// its task queues: the default rate of fifty shards.
const shardReadsPerSecond = 1000

// dynamicConfig tunes the server for one node with one user. It is held
// in memory so that forcing search-attribute reads to the database can be
// switched off once the server is ready (see stopForcingAttributeReads).
func dynamicConfig() *dynamicconfig.MemoryClient {
	c := dynamicconfig.NewMemoryClient()
	for k, v := range map[dynamicconfig.Key]any{
		// Off: the frontend would otherwise report the cluster ID and the
		// SDK versions it sees to Temporal's update service every few
		// hours. A dev server keeps to the developer's machine.
		dynamicconfig.EnableServerVersionCheck.Key(): false,
		// While starting, a search attribute is usable the moment it is
		// added, rather than after the cache's next refresh (a minute).
		// Left on, every workflow start and upsert would read the cluster
		// metadata from SQLite under one lock.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		// One partition per task queue: with one worker process, more
		// partitions only forward polls and tasks between each other.
		// Never lower this on an existing database: tasks in the dropped
		// partitions would be stranded.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		// The history service keeps the state of the workflows it last
		// touched, for an hour. Pacto's activities sleep for weeks between
		// changes, so a large cache holds mostly sleepers: at the default
		// of 128k, or even 8k, ten thousand open activities kept hundreds
		// of megabytes. A workflow not kept is read from SQLite when it
		// wakes, in a millisecond or two. As many as Pacto's worker keeps
		// (app.DefaultWorkflowCache).
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): historyCacheSize,
		// Timers fire on time: the timer queue reads this far ahead of the
		// clock, and a timer read early waits on a retry backoff rather than
		// its own time, which made reminders up to a second late. A tenth
		// of a second costs one more small read of the queue per timer.
		dynamicconfig.TimerProcessorMaxTimeShift.Key(): 100 * time.Millisecond,
		// Each history shard reads its task queues (timers, tasks for
		// matching, visibility records) at most 20 times a second by
		// default, a rate sized for clusters of hundreds of shards. The
		// dev server's one shard carries every workflow: at that rate,
		// reminders falling due close together, each its own timer, were
		// read a few at a time, and a reader kept waiting gives up for
		// three seconds, which made them seconds late. A read happens only
		// when a timer is due or a task is added, so a higher bound costs
		// nothing while idle.
		dynamicconfig.TimerProcessorMaxPollRPS.Key():      shardReadsPerSecond,
		dynamicconfig.TransferProcessorMaxPollRPS.Key():   shardReadsPerSecond,
		dynamicconfig.VisibilityProcessorMaxPollRPS.Key(): shardReadsPerSecond,
		// The UI lists and counts workflows on every page; the default of
		// 10 visibility requests per second throttles a busy tab.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	} {
		c.OverrideValue(k, v)
	}
	return c
}

// attributeCacheLife is how long the server's services may keep a search
// attribute cache loaded before the attributes were registered: its
// refresh interval, plus a margin.
const attributeCacheLife = 65 * time.Second

// stopForcingAttributeReads lets the search-attribute caches work again:
// at once if registering added nothing, else once every cache loaded
// before the registration has expired.
func stopForcingAttributeReads(c *dynamicconfig.MemoryClient, added bool) (cancel func()) {
	off := func() { c.OverrideValue(dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(), false) }
	if !added {
		off()
		return func() {}
	}
	t := time.AfterFunc(attributeCacheLife, off)
	return func() { t.Stop() }
}
