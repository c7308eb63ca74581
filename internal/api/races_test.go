package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"pacto/internal/lifecycle"
	"sync"
	"testing"
	"time"
)

// races sends conflicting requests at the same moment. The workflow takes
// Updates one at a time and validates each against the state it finds, so
// the outcome must always obey the rules.
func (s *stack) races(t *testing.T) {
	// 100 identical approvals from the same approver: one is recorded, the
	// others are told it is already approved.
	a := s.propose(proposal())
	path := "/v1/activities/" + a.ID
	statuses := concurrently(100, func(int) reply {
		return s.call("pa-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
	})
	if statuses[http.StatusOK] != 1 || statuses[http.StatusConflict] != 99 {
		t.Fatalf("100 identical approvals: %v; want one 200 and 99 409", statuses)
	}
	if n := s.countAudit(t, a.ID, "approved"); n != 1 {
		t.Fatalf("%d approvals in the audit log, want 1", n)
	}
	// Once the burst is over, nothing is left queued for the activity.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.srv.inflightMu.Lock()
		left := len(s.srv.inflight)
		s.srv.inflightMu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d activities still hold update slots after the burst", left)
		}
	}

	// Both approvers at the same instant: both count, activation happens once.
	b := s.propose(proposal())
	statuses = concurrently(2, func(i int) reply {
		who := []string{"pa-approver", "us-approver"}[i]
		return s.call(who, "POST", "/v1/activities/"+b.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
	})
	if statuses[http.StatusOK] != 2 {
		t.Fatalf("two approvers at once: %v", statuses)
	}
	if n := s.countAudit(t, b.ID, "activated"); n != 1 {
		t.Fatalf("activated %d times", n)
	}

	// An amendment racing both approvals: never active on an approval of an
	// old version.
	for round := range 5 {
		c := s.propose(proposal())
		p := "/v1/activities/" + c.ID
		title := fmt.Sprintf("Amended in round %d", round)
		concurrently(3, func(i int) reply {
			switch i {
			case 0:
				return s.call("us-coordinator", "PATCH", p, AmendRequest{Version: ptr(1), Title: lifecycle.Plain(title)})
			case 1:
				return s.call("pa-approver", "POST", p+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
			default:
				return s.call("us-approver", "POST", p+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
			}
		})
		got := s.call("pa-observer", "GET", p+"?consistent=true", nil).activity(t)
		if got.Status == "active" {
			for _, ap := range got.Approvals {
				if ap.Decision != "approve" || ap.Version != got.Version {
					t.Fatalf("round %d: active at version %d with approval %+v", round, got.Version, ap)
				}
			}
			if got.Title["en"] == title {
				t.Fatalf("round %d: active with the amended title but approvals of version 1", round)
			}
		} else if got.Version != 2 || got.Status != "proposed" {
			t.Fatalf("round %d: neither activated nor amended: %s v%d", round, got.Status, got.Version)
		}
	}
}

// concurrently runs n requests at once and counts their statuses.
func concurrently(n int, f func(i int) reply) map[int]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	counts := map[int]int{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := f(i)
			mu.Lock()
			counts[r.status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

func (s *stack) countAudit(t *testing.T, id, typ string) int {
	t.Helper()
	r := s.call("pa-observer", "GET", "/v1/activities/"+id+"/audit?limit=200", nil)
	var page AuditPage
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range page.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}
