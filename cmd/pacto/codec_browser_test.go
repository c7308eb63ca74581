package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// uiShows opens the Web UI's page of a workflow run in a headless
// Chromium and reports whether its text comes to hold want within wait
// of showing the run.
// Before that, signIn (when set) signs the browser in to the console as
// that principal, through the console's dev sign-in.
func uiShows(t *testing.T, consoleBase, uiBase, workflowID, runID, signIn, want string, wait time.Duration) bool {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("this test needs Chromium on PATH: %v; on Debian `apt-get install chromium` (.ci/run does)", err)
	}
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true))
	defer stopAlloc()
	ctx, stop := chromedp.NewContext(alloc)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if signIn != "" {
		if err := chromedp.Do(ctx, chromedp.Navigate(consoleBase+"/signin")); err != nil {
			t.Fatalf("open the sign-in page: %v", err)
		}
		status, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(
			`fetch("/signin", {method: "POST", body: new URLSearchParams({principal: %q, next: "/"})}).then(r => r.status)`, signIn),
			chromedp.EvalAwaitPromise))
		if err != nil || status != 200 {
			t.Fatalf("sign in as %s: %d, %v", signIn, status, err)
		}
	}
	page := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", uiBase, workflowID, runID)
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	// First the page, which may take a while on a loaded machine; then
	// wait for want.
	read := func() string {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatalf("read %s: %v", page, err)
		}
		return text
	}
	text := read()
	for loaded := time.Now().Add(time.Minute); !strings.Contains(text, workflowID); text = read() {
		if time.Now().After(loaded) {
			t.Fatalf("the UI's page never showed the workflow:\n%s", text)
		}
		time.Sleep(250 * time.Millisecond)
	}
	for deadline := time.Now().Add(wait); !strings.Contains(text, want); text = read() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
	return true
}
