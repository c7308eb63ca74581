package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiopts "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiServer is the Temporal Web UI, served in-process.
type uiServer struct {
	srv  *uiserver.Server
	addr string
	// done closes when the UI's Start returns, that is once it has
	// stopped serving.
	done chan struct{}
}

// uiStopTimeout bounds the wait for the UI's listener to close.
const uiStopTimeout = 5 * time.Second

// startUI serves the UI on p.ui and returns once it answers. The UI server
// offers no way to hand it a listener or learn when it listens, so the port
// was checked free by pickPorts, and readiness is its /healthz answering.
// Waiting for that also makes stop safe: closing the UI before it listens
// would leave it listening for good.
func startUI(ctx context.Context, o resolved, p ports) (*uiServer, error) {
	// The UI's Host is used verbatim in "host:port", so IPv6 needs brackets.
	host := o.ip
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]"
	}
	cfg := &uiconfig.Config{
		Host:                host,
		Port:                p.ui,
		TemporalGRPCAddress: p.frontendAddr,
		EnableUI:            true,
		DefaultNamespace:    o.namespace,
		// Served over plain HTTP: a Secure cookie would never come back,
		// and every write from the UI would fail its CSRF check.
		CORS:     uiconfig.CORS{CookieInsecure: true},
		HideLogs: true,
		// With credentials: the codec endpoint knows the person by the
		// console's session cookie.
		Codec: uiconfig.Codec{Endpoint: o.uiCodec, IncludeCredentials: o.uiCodec != ""},
	}
	var srv *uiserver.Server
	if err := guard("build UI server", func() error {
		srv = uiserver.NewServer(uiopts.WithConfigProvider(cfg))
		return nil
	}); err != nil {
		return nil, err
	}
	u := &uiServer{srv: srv, addr: net.JoinHostPort(o.localIP, strconv.Itoa(p.ui)), done: make(chan struct{})}
	go func() {
		defer close(u.done)
		// Start blocks until Stop and returns nil then.
		if err := srv.Start(); err != nil {
			o.logger.Error("Temporal UI stopped", "error", err)
		}
	}()
	if err := u.wait(ctx); err != nil {
		_ = u.stop()
		return nil, err
	}
	return u, nil
}

func (u *uiServer) wait(ctx context.Context) error {
	hc := &http.Client{Timeout: time.Second}
	url := "http://" + u.addr + "/healthz"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("UI health request: %w", err)
		}
		if resp, err := hc.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for UI at %s: %w", u.addr, ctx.Err())
		case <-u.done:
			return fmt.Errorf("UI at %s stopped while starting", u.addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (u *uiServer) stop() error {
	// Stop closes the listener and every connection at once: the UI holds
	// no state worth draining for.
	if err := guard("stop UI server", func() error { u.srv.Stop(); return nil }); err != nil {
		return err
	}
	select {
	case <-u.done:
		return nil
	case <-time.After(uiStopTimeout):
		return errors.New("stop UI server: still serving after " + uiStopTimeout.String())
	}
}
