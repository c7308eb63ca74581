// Package devserver runs a whole Temporal server (frontend, history,
// matching and worker services) inside the calling process, persisted to
// SQLite, for `pacto dev` and for tests. Workflows, timers and visibility
// records live in a file under Options.DataDir, so they survive a restart
// of the process, even one killed by SIGKILL. Optionally it serves the
// Temporal Web UI in the same process.
//
// It is built for one developer's machine: one history shard, no
// authentication, no TLS, and every port on loopback unless Options.IP
// says otherwise.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"pacto/workflows"
)

// Defaults and special values of Options.
const (
	// DefaultFrontendPort is Temporal's usual frontend port, where tools
	// such as the temporal CLI look by default. `pacto dev` should pass it
	// explicitly: the zero FrontendPort picks a free port instead.
	DefaultFrontendPort = 7233
	// DefaultUIPort is where the temporal CLI's dev server serves its UI.
	DefaultUIPort = 8233
	// AnyPort asks for a free port chosen at start. For FrontendPort it is
	// the same as 0; for UIPort, where 0 means "no UI", it is the only way
	// to get one on a free port.
	AnyPort = -1
	// DefaultIP keeps every listener on loopback.
	DefaultIP = "127.0.0.1"
	// DefaultNamespace is the namespace Pacto uses unless told otherwise.
	DefaultNamespace = "default"
	// DefaultRetention keeps a closed workflow's history for 30 days: a
	// developer who comes back to a run after a holiday still finds it, and
	// the database does not grow forever. Pacto's activities run for months
	// while open; retention only counts from when a workflow closes.
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultLogLevel passes on only the server's warnings and errors; at
	// info level it logs every service start and shard movement.
	DefaultLogLevel = slog.LevelWarn
)

// Files in DataDir.
const (
	databaseFile   = "temporal.db"
	visibilityFile = "temporal-visibility.db"
	lockFile       = "devserver.lock"
)

// clusterName is the single cluster's name, persisted on first start.
const clusterName = "active"

// Options configures Start. The zero value of each field but DataDir is
// usable.
type Options struct {
	// DataDir holds the SQLite databases (temporal.db, and the visibility
	// records in temporal-visibility.db; each with its -wal and -shm
	// files) and a lock file. It is created if missing and reused on every
	// start: that is what makes workflows survive a restart. Required.
	DataDir string
	// IP is the address the frontend (and the UI) listen on; DefaultIP when
	// empty. Use "0.0.0.0" to reach them from other machines. The internal
	// services always stay on loopback.
	IP string
	// FrontendPort is the frontend's gRPC port, the one clients dial; 0 or
	// AnyPort picks a free one (see FrontendAddress).
	FrontendPort int
	// UIPort serves the Temporal Web UI; 0 serves none, AnyPort picks a
	// free port (see UIAddress).
	UIPort int
	// UICodecEndpoint, when set, is the remote payload codec the UI's
	// pages decode payloads through (the URL before /decode). The pages
	// send it the browser's cookies for its site, and no token.
	UICodecEndpoint string
	// Namespace is registered on start if missing; DefaultNamespace when
	// empty.
	Namespace string
	// Retention is how long a closed workflow is kept, set when Start
	// registers the namespace (a namespace already there keeps its own);
	// DefaultRetention when 0. Temporal requires at least a day.
	Retention time.Duration
	// Logger receives the server's logs; slog.Default() when nil.
	Logger *slog.Logger
	// LogLevel is the lowest level of the server's own records passed to
	// Logger; DefaultLogLevel when nil. Clients made by NewClient log to
	// Logger unfiltered.
	LogLevel slog.Leveler
}

// Server is a running dev server. Its methods are safe for concurrent use.
type Server struct {
	// stopTemporal stops the Temporal services.
	stopTemporal func() error
	ui           *uiServer
	frontend     string
	uiAddr       string
	namespace    string
	dbPath       string
	logger       *slog.Logger
	unlock       func() error

	stopOnce sync.Once
	stopped  chan struct{}
	stopErr  error
}

// startTimeout bounds how long Start waits for the server to answer.
const startTimeout = 60 * time.Second

// Start starts a dev server and returns once its frontend answers, the
// namespace exists and Pacto's search attributes are registered on it.
// The first start on a DataDir creates the database; later starts reuse
// it. ctx bounds the wait for readiness; the server outlives ctx and runs
// until Stop.
func Start(ctx context.Context, opts Options) (srv *Server, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("start dev server: %w", err)
		}
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	o, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	unlock, err := lockDataDir(filepath.Join(o.dataDir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	// Until it is handed to the Server, everything started is undone on
	// failure, in reverse order.
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	undo = append(undo, func() { _ = unlock() })

	ports, err := pickPorts(o)
	if err != nil {
		return nil, err
	}

	dbs, err := prepareStores(ctx, o.dataDir)
	if err != nil {
		return nil, err
	}
	if dbs.created {
		o.quiet.Info("created dev server database", "path", dbs.persistence.DatabaseName, "visibility", dbs.visibility.DatabaseName)
	}
	if err := createNamespace(dbs.persistence, o); err != nil {
		return nil, err
	}

	gate := &logGate{}
	dc := dynamicConfig()
	ts, err := newTemporal(o, ports, dbs, gate, dc)
	if err != nil {
		return nil, err
	}
	stopTemporal := func() error {
		gate.set(gateStopping)
		defer gate.set(gateClosed)
		return guard("stop Temporal server", ts.Stop)
	}
	if err := guard("start Temporal server", ts.Start); err != nil {
		// Services that did start hold listeners; stop them.
		_ = stopTemporal()
		return nil, err
	}
	undo = append(undo, func() { _ = stopTemporal() })

	rctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	added, err := ready(rctx, ports.frontendAddr, o)
	if err != nil {
		return nil, err
	}
	stopForcing := stopForcingAttributeReads(dc, added)
	undo = append(undo, stopForcing)

	s := &Server{
		stopTemporal: func() error { stopForcing(); return stopTemporal() },
		frontend:     ports.frontendAddr,
		namespace:    o.namespace,
		dbPath:       dbs.persistence.DatabaseName,
		logger:       o.logger,
		unlock:       unlock,
		stopped:      make(chan struct{}),
	}
	if ports.ui != 0 {
		ui, err := startUI(rctx, o, ports)
		if err != nil {
			return nil, err
		}
		s.ui, s.uiAddr = ui, ui.addr
	}
	return s, nil
}

// FrontendAddress is the host:port clients dial.
func (s *Server) FrontendAddress() string { return s.frontend }

// UIAddress is the host:port of the Temporal Web UI, or "" without one.
func (s *Server) UIAddress() string { return s.uiAddr }

// Namespace is the namespace Start registered.
func (s *Server) Namespace() string { return s.namespace }

// DatabasePath is the SQLite file holding the server's state.
func (s *Server) DatabasePath() string { return s.dbPath }

// NewClient dials the server. opts.HostPort is always the frontend; an
// empty opts.Namespace is the server's namespace and a nil opts.Logger
// logs to Options.Logger. The caller closes the client.
func (s *Server) NewClient(ctx context.Context, opts client.Options) (client.Client, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	opts.HostPort = s.frontend
	if opts.Namespace == "" {
		opts.Namespace = s.namespace
	}
	if opts.Logger == nil {
		opts.Logger = sdklog.NewStructuredLogger(s.logger)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("dial dev server at %s: %w", s.frontend, err)
	}
	return c, nil
}

// Stop shuts the server down gracefully: the UI first, then the Temporal
// services (frontend first, so no new work comes in while history and
// matching finish theirs), then releases the data directory. If ctx ends
// first Stop returns its error while shutdown goes on in the background,
// and the data directory stays locked until it finishes. Calling Stop
// again waits for the same shutdown and returns the same result.
func (s *Server) Stop(ctx context.Context) error {
	if s == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	s.stopOnce.Do(func() { go s.shutdown() })
	select {
	case <-s.stopped:
		return s.stopErr
	case <-ctx.Done():
		return fmt.Errorf("stop dev server: %w (shutdown continues in the background)", ctx.Err())
	}
}

func (s *Server) shutdown() {
	defer close(s.stopped)
	var errs []error
	if s.ui != nil {
		errs = append(errs, s.ui.stop())
	}
	errs = append(errs, s.stopTemporal())
	// Only now is nobody writing the database.
	if err := s.unlock(); err != nil {
		errs = append(errs, fmt.Errorf("unlock data directory: %w", err))
	}
	s.stopErr = errors.Join(errs...)
}

// resolved is Options with defaults applied and checked.
type resolved struct {
	dataDir      string
	ip           string
	localIP      string // where this process reaches the frontend
	frontendPort int
	uiPort       int
	uiCodec      string
	namespace    string
	retention    time.Duration
	logger       *slog.Logger
	quiet        *slog.Logger // logger filtered at LogLevel
	level        slog.Leveler
}

func resolve(opts Options) (resolved, error) {
	o := resolved{
		ip:           opts.IP,
		frontendPort: opts.FrontendPort,
		uiPort:       opts.UIPort,
		uiCodec:      opts.UICodecEndpoint,
		namespace:    opts.Namespace,
		retention:    opts.Retention,
		logger:       opts.Logger,
		level:        opts.LogLevel,
	}
	if strings.TrimSpace(opts.DataDir) == "" {
		return o, errors.New("DataDir is required: it is where the server keeps its state")
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return o, fmt.Errorf("resolve DataDir %q: %w", opts.DataDir, err)
	}
	// The SQLite plugin puts the path into a file: URI unescaped, where
	// these characters would be read as query, fragment or escape.
	if strings.ContainsAny(dir, "?#%") {
		return o, fmt.Errorf("DataDir %q must not contain '?', '#' or '%%'", dir)
	}
	o.dataDir = dir

	if o.ip == "" {
		o.ip = DefaultIP
	}
	ip := net.ParseIP(o.ip)
	if ip == nil {
		return o, fmt.Errorf("IP %q is not an IP address", opts.IP)
	}
	o.ip = ip.String()
	o.localIP = o.ip
	if ip.IsUnspecified() {
		// Listening on every address; reach it through loopback.
		o.localIP = DefaultIP
		if ip.To4() == nil {
			o.localIP = "::1"
		}
	}

	if err := checkPort("FrontendPort", o.frontendPort); err != nil {
		return o, err
	}
	if o.frontendPort == AnyPort {
		o.frontendPort = 0
	}
	if err := checkPort("UIPort", o.uiPort); err != nil {
		return o, err
	}

	if o.namespace == "" {
		o.namespace = DefaultNamespace
	}
	if err := checkNamespace(o.namespace); err != nil {
		return o, err
	}
	if o.retention == 0 {
		o.retention = DefaultRetention
	}
	if o.retention < 24*time.Hour {
		return o, fmt.Errorf("retention %s is below Temporal's minimum of one day", o.retention)
	}

	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.level == nil {
		o.level = DefaultLogLevel
	}
	o.quiet = slog.New(&levelHandler{h: o.logger.Handler(), min: o.level})
	return o, nil
}

func checkPort(name string, p int) error {
	if p < AnyPort || p > 65535 {
		return fmt.Errorf("%s %d is not a TCP port (0 to 65535, or AnyPort)", name, p)
	}
	return nil
}

// checkNamespace rejects names Temporal would refuse or mangle later, in
// less obvious places.
func checkNamespace(ns string) error {
	if len(ns) > 255 || !utf8.ValidString(ns) {
		return fmt.Errorf("namespace %q must be at most 255 bytes of UTF-8", ns)
	}
	if strings.IndexFunc(ns, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("namespace %q must not contain spaces or control characters", ns)
	}
	if ns == "temporal-system" {
		return errors.New("namespace temporal-system is reserved for the server itself")
	}
	return nil
}

// guard runs a Temporal lifecycle call, turning a panic (including the
// logger's Fatal, see fatalError) into an error.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: panic: %v", what, r)
		}
	}()
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ready waits until the frontend answers and the namespace is usable, then
// registers Pacto's search attributes. Registering is idempotent, so a
// restart adds only what a newer Pacto defines; it reports whether it
// added any.
func ready(ctx context.Context, frontend string, o resolved) (added bool, err error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  frontend,
		Namespace: o.namespace,
		Logger:    sdklog.NewStructuredLogger(o.quiet),
	})
	if err != nil {
		return false, fmt.Errorf("dial dev server at %s: %w", frontend, err)
	}
	defer c.Close()
	for {
		_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: o.namespace})
		if err == nil {
			break
		}
		var nf *serviceerror.NamespaceNotFound
		if !errors.As(err, &nf) {
			return false, fmt.Errorf("describe namespace %s: %w", o.namespace, err)
		}
		// The frontend's namespace cache is still loading; it refreshes
		// within seconds.
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("wait for namespace %s: %w", o.namespace, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	added, err = workflows.RegisterSearchAttributes(ctx, c, o.namespace)
	if err != nil {
		return false, fmt.Errorf("register search attributes: %w", err)
	}
	return added, nil
}

// levelHandler drops records below min before they reach h.
type levelHandler struct {
	h   slog.Handler
	min slog.Leveler
}

func (l *levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= l.min.Level() && l.h.Enabled(ctx, level)
}

func (l *levelHandler) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }

func (l *levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &levelHandler{h: l.h.WithAttrs(as), min: l.min}
}

func (l *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{h: l.h.WithGroup(name), min: l.min}
}
