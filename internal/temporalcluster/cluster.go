// Package temporalcluster runs the real Temporal server as a production
// deployment does: the frontend, history, matching and worker services
// each in a process of its own, finding each other through the gossip
// ring, on PostgreSQL for both persistence and visibility, with the schema
// applied by the server's own SQL schema tooling. Everything listens on
// loopback. The tests and `pacto bench --cluster` use it to run Pacto
// against such a cluster rather than the embedded default.
//
// Start launches the processes with a command the caller gives, which
// must run Serve (`pacto temporal-service` does); each reads its
// configuration on standard input, so no password is on a command line or
// in an environment.
package temporalcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/server/api/adminservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Defaults of Options.
const (
	// DefaultHistoryShards is small, for a cluster on one machine; it is
	// persisted on first start and cannot change afterwards.
	DefaultHistoryShards = 4
	// DefaultLogLevel passes on only the services' warnings and errors.
	DefaultLogLevel = "warn"
	// maxHistoryShards is far more than one machine would ever want.
	maxHistoryShards = 16384
	// readyTimeout bounds how long Start waits for every service to join.
	readyTimeout = 2 * time.Minute
	// stopGrace is how long Stop lets a service shut down before killing it.
	stopGrace = 10 * time.Second
)

// Options configures Start.
type Options struct {
	// PersistenceURL and VisibilityURL are postgres:// URLs of two
	// existing databases, empty or holding an earlier Start's data.
	// Required.
	PersistenceURL string
	VisibilityURL  string
	// Command makes a new command that runs Serve with its standard input
	// and error as given to it; Start sets those and starts it. Required.
	Command func() *exec.Cmd
	// Output receives every service's log lines, each prefixed with the
	// service's name; nil discards them.
	Output io.Writer
	// LogLevel is the services' log level (debug, info, warn, error);
	// DefaultLogLevel when empty.
	LogLevel string
	// HistoryShards is DefaultHistoryShards when 0.
	HistoryShards int
}

// Cluster is a running cluster.
type Cluster struct {
	frontend string
	procs    []*process
	stopOnce sync.Once
	stopErr  error
}

// process is one service's process.
type process struct {
	service string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	tail    *tail
	done    chan struct{}
	err     error // cmd.Wait's, once done is closed
}

// Start applies the schema, starts the four services and returns once the
// frontend answers and sees every service in its ring. ctx bounds the
// start; the cluster then runs until Stop.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("start the Temporal cluster: %w", err)
		}
	}()
	if opts.Command == nil {
		return nil, errors.New("Options.Command is required: it runs each service")
	}
	persistence, err := ParseDatabaseURL(opts.PersistenceURL)
	if err != nil {
		return nil, fmt.Errorf("persistence: %w", err)
	}
	visibility, err := ParseDatabaseURL(opts.VisibilityURL)
	if err != nil {
		return nil, fmt.Errorf("visibility: %w", err)
	}
	if err := ApplySchema(persistence, visibility); err != nil {
		return nil, err
	}
	if opts.HistoryShards < 0 || opts.HistoryShards > maxHistoryShards {
		return nil, fmt.Errorf("HistoryShards %d: want 1 to %d", opts.HistoryShards, maxHistoryShards)
	}
	s := spec{Persistence: persistence, Visibility: visibility, HistoryShards: int32(opts.HistoryShards), LogLevel: opts.LogLevel}
	if s.HistoryShards == 0 {
		s.HistoryShards = DefaultHistoryShards
	}
	if s.LogLevel == "" {
		s.LogLevel = DefaultLogLevel
	}
	if s.Ports, err = pickPorts(); err != nil {
		return nil, err
	}
	out := opts.Output
	if out == nil {
		out = io.Discard
	}
	var mu sync.Mutex // one line at a time into out
	c := &Cluster{frontend: s.frontendAddr()}
	defer func() {
		if err != nil {
			_ = c.Stop(context.Background())
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for i, svc := range Services {
		s.Service = svc
		p, err := startProcess(opts.Command(), s, &lineWriter{prefix: "[" + svc + "] ", out: out, mu: &mu})
		if p != nil {
			c.procs = append(c.procs, p) // for Stop, even if it failed
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			// On a new database every service would write the cluster's
			// metadata as it starts, and all but the first writer fail:
			// the first starts alone until it has joined the ring.
			if err := c.waitMember(rctx, opts.PersistenceURL); err != nil {
				return nil, err
			}
		}
	}
	if err := c.waitReady(rctx); err != nil {
		return nil, err
	}
	return c, nil
}

// waitMember waits until a service has written itself into the
// membership table, which it does once the cluster's metadata and system
// namespace are in place.
func (c *Cluster) waitMember(ctx context.Context, persistenceURL string) error {
	conn, err := pgx.Connect(ctx, persistenceURL)
	if err != nil {
		return fmt.Errorf("connect to Temporal's database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		if err := c.exited(); err != nil {
			return err
		}
		var members int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM cluster_membership").Scan(&members); err != nil {
			return fmt.Errorf("read Temporal's membership table: %w", err)
		}
		if members > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the %s service has not joined the ring: %w", c.procs[0].service, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// exited reports a service that exited while the cluster was starting.
func (c *Cluster) exited() error {
	for _, p := range c.procs {
		select {
		case <-p.done:
			return fmt.Errorf("the %s service exited while starting: %v: %s", p.service, p.err, p.tail)
		default:
		}
	}
	return nil
}

// pickPorts finds free loopback ports for every service's gRPC and
// membership listeners. All stay open until every port is picked, so no
// two are the same; another process could take one before the services
// bind it, a window of milliseconds.
func pickPorts() (map[string]ports, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	try := func(port int) (int, error) {
		l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(port)))
		if err != nil {
			return 0, err
		}
		held = append(held, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	// Temporal's PostgreSQL schema keeps a member's port in a smallint,
	// below the range the system hands out for port 0: membership ports
	// are drawn from [minMembershipPort, 32767] instead.
	membership := func() (int, error) {
		var err error
		for range 100 {
			var p int
			if p, err = try(minMembershipPort + rand.IntN(32768-minMembershipPort)); err == nil {
				return p, nil
			}
		}
		return 0, fmt.Errorf("pick a free membership port: %w", err)
	}
	m := map[string]ports{}
	for _, svc := range Services {
		var p ports
		var err error
		if p.GRPC, err = try(0); err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		if p.Membership, err = membership(); err != nil {
			return nil, err
		}
		m[svc] = p
	}
	return m, nil
}

// minMembershipPort is the lowest membership port pickPorts draws.
const minMembershipPort = 20000

func startProcess(cmd *exec.Cmd, s spec, out io.Writer) (*process, error) {
	p := &process{service: s.Service, cmd: cmd, tail: &tail{}, done: make(chan struct{})}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%s service: %w", s.Service, err)
	}
	p.stdin = stdin
	w := io.MultiWriter(out, p.tail)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s service (%s): %w", s.Service, cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	b, err := json.Marshal(s)
	if err != nil {
		return p, fmt.Errorf("%s service's spec: %w", s.Service, err)
	}
	// The pipe stays open: the service stops when it closes.
	if _, err := stdin.Write(append(b, '\n')); err != nil {
		return p, fmt.Errorf("hand the %s service its spec: %w (%s)", s.Service, err, p.tail)
	}
	return p, nil
}

// waitReady polls the frontend until its ring holds every service.
func (c *Cluster) waitReady(ctx context.Context) error {
	conn, err := grpc.NewClient(c.frontend, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial the frontend at %s: %w", c.frontend, err)
	}
	defer conn.Close()
	admin := adminservice.NewAdminServiceClient(conn)
	var last error
	for {
		if err := c.exited(); err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = checkRing(actx, admin)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last: %v)", ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// checkRing says which services the frontend does not see yet.
func checkRing(ctx context.Context, admin adminservice.AdminServiceClient) error {
	d, err := admin.DescribeCluster(ctx, &adminservice.DescribeClusterRequest{})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range d.GetMembershipInfo().GetRings() {
		seen[r.GetRole()] = r.GetMemberCount() > 0
	}
	for _, svc := range Services {
		if !seen[svc] {
			return fmt.Errorf("the frontend does not see the %s service yet", svc)
		}
	}
	return nil
}

// FrontendAddress is the host:port clients dial.
func (c *Cluster) FrontendAddress() string { return c.frontend }

// Describe asks the frontend how the cluster is made: its services'
// rings, shard count and persistence and visibility stores.
func (c *Cluster) Describe(ctx context.Context) (*adminservice.DescribeClusterResponse, error) {
	conn, err := grpc.NewClient(c.frontend, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dial the frontend at %s: %w", c.frontend, err)
	}
	defer conn.Close()
	return adminservice.NewAdminServiceClient(conn).DescribeCluster(ctx, &adminservice.DescribeClusterRequest{})
}

// PIDs are the service processes' ids, by service.
func (c *Cluster) PIDs() map[string]int {
	m := map[string]int{}
	for _, p := range c.procs {
		m[p.service] = p.cmd.Process.Pid
	}
	return m
}

// Stop stops every service: each is asked to stop (SIGTERM, and its
// standard input closed), the frontend first so that no new work comes in,
// and killed if it has not exited within a few seconds or when ctx ends.
// Calling Stop again returns the same result.
func (c *Cluster) Stop(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.stopOnce.Do(func() {
		var errs []error
		for _, p := range c.procs {
			select {
			case <-p.done:
				// Exited by itself: only then is its status news.
				if p.err != nil {
					errs = append(errs, fmt.Errorf("the %s service exited: %v: %s", p.service, p.err, p.tail))
				}
			default:
				_ = p.cmd.Process.Signal(syscall.SIGTERM)
				_ = p.stdin.Close()
			}
		}
		gctx, cancel := context.WithTimeout(ctx, stopGrace)
		defer cancel()
		for _, p := range c.procs {
			select {
			case <-p.done:
				continue
			case <-gctx.Done():
			}
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// lineWriter writes whole lines to out, each with a prefix.
type lineWriter struct {
	prefix string
	out    io.Writer
	mu     *sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.mu.Lock()
		_, _ = io.WriteString(w.out, w.prefix+string(w.buf[:i+1]))
		w.mu.Unlock()
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// tail keeps the last few kilobytes a process wrote, for errors.
type tail struct {
	mu sync.Mutex
	b  []byte
}

const tailSize = 4096

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if len(t.b) > tailSize {
		t.b = t.b[len(t.b)-tailSize:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.b) == 0 {
		return "no output"
	}
	return "output ends: " + string(t.b)
}
