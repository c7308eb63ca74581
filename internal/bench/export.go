package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"pacto/internal/store"
)

// Export is one IATI export of a dialogue's published activities,
// streamed through the API, with the Go heap sampled while it ran.
type Export struct {
	Activities int     `json:"activities"`
	Seconds    float64 `json:"seconds"`
	MB         float64 `json:"mb"`
	// BaseHeapMB is the live heap after a collection just before the
	// export; PeakHeapMB the most heap in use (live and not yet
	// collected) while it ran; PeakLiveGrowthMB the most the live heap,
	// as each collection found it, grew over BaseHeapMB: what the export
	// holds, which must not grow with the number of activities.
	BaseHeapMB       float64 `json:"base_heap_mb"`
	PeakHeapMB       float64 `json:"peak_heap_mb"`
	PeakLiveGrowthMB float64 `json:"peak_live_growth_mb"`
}

// exportDialogue is the dialogue the export is measured on: copies of one
// published activity, and nothing else.
const exportDialogue = "bench-iati"

// publish sets a dialogue of PA and the US up for IATI and has both
// approvers consent to publishing one active activity, whose copies it
// is then filled with (see fillExport).
func (e *env) publish(ctx context.Context) error {
	if _, err := e.st.SetPartyIATI(ctx, "PA", "PA-MIRE-1", ""); err != nil {
		return err
	}
	if _, err := e.st.CreateDialogue(ctx, store.Dialogue{ID: exportDialogue, Name: "IATI export", Parties: []string{"PA", "US"},
		DialogueIATI: store.DialogueIATI{ReportingParty: "PA", Sector: "15190", RecipientCountries: []string{"PA"}}}); err != nil {
		return err
	}
	var id string
	var version int
	if err := e.st.Pool().QueryRow(ctx, "SELECT id, version FROM activities WHERE status = 'active' AND id NOT LIKE 'bench-%' ORDER BY id LIMIT 1").Scan(&id, &version); err != nil {
		return fmt.Errorf("pick the activity to publish: %w", err)
	}
	for _, who := range []string{"pa-approver", "us-approver"} {
		code, b, err := e.call(ctx, who, "POST", "/v1/activities/"+id+"/publication", map[string]any{"version": version, "decision": "consent"})
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("consent to publishing %s: %d %s %v", id, code, b, err)
		}
	}
	e.published = id
	return nil
}

// fillExport brings the export's dialogue to n published activities,
// copies of the one published (the copies have no audit log, so the
// export's query for their evidence finds none).
func (e *env) fillExport(ctx context.Context, n int) error {
	have, err := e.count(ctx, "SELECT count(*) FROM activities WHERE dialogue_id = '"+exportDialogue+"'")
	if err != nil {
		return err
	}
	if add := n - have; add > 0 {
		if _, err := e.st.Pool().Exec(ctx, `
			INSERT INTO activities (id, dialogue_id, title, summary, status, version, seq, proposer, proposer_party,
				parties, pending_parties, horizons, next_due, amber_from, next_wake, snapshot, proposed_at, activated_at, closed_at, search, published)
			SELECT 'iati-' || $2::int + g, $4, title, summary, status, version, seq, proposer, proposer_party,
				parties, pending_parties, horizons, next_due, amber_from, next_wake, snapshot, proposed_at, activated_at, closed_at, search, published
			FROM (SELECT * FROM activities WHERE id = $3 AND published) a, generate_series(1, $1::int) g`,
			add, have, e.published, exportDialogue); err != nil {
			return fmt.Errorf("fill the export's dialogue: %w", err)
		}
		if _, err := e.st.Pool().Exec(ctx, "VACUUM ANALYZE activities"); err != nil {
			return err
		}
	}
	return nil
}

// exportIATI fetches the export dialogue's IATI file through the API and
// reads it to nowhere, sampling the heap every millisecond meanwhile.
func (e *env) exportIATI(ctx context.Context) (Export, error) {
	var out Export
	n, err := e.count(ctx, "SELECT count(*) FROM activities WHERE published AND dialogue_id = '"+exportDialogue+"'")
	if err != nil {
		return out, err
	}
	out.Activities = n
	runtime.GC()
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(samples)
	base := samples[1].Value.Uint64()
	var peak, peakLive uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(s)
			peak, peakLive = max(peak, s[0].Value.Uint64()), max(peakLive, s[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	t0 := time.Now()
	written, tail, err := e.stream(ctx, "/v1/dialogues/"+exportDialogue+"/export/iati")
	out.Seconds = time.Since(t0).Seconds()
	close(stop)
	wg.Wait()
	if err != nil {
		return out, err
	}
	if !bytes.HasSuffix(bytes.TrimSpace(tail), []byte("</iati-activities>")) {
		return out, fmt.Errorf("the IATI export ends with %q, not a whole document", tail)
	}
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	out.MB, out.BaseHeapMB, out.PeakHeapMB = float64(written)/(1<<20), mb(base), mb(peak)
	if peakLive > base {
		out.PeakLiveGrowthMB = mb(peakLive - base)
	}
	return out, nil
}

// stream GETs path as an observer and reads the body to nowhere,
// returning its size and its last bytes.
func (e *env) stream(ctx context.Context, path string) (int64, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens["us-observer"])
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var p struct{ Detail string }
		_ = json.Unmarshal(b, &p)
		return 0, nil, fmt.Errorf("IATI export: %d %s", resp.StatusCode, p.Detail)
	}
	t := &tailWriter{}
	n, err := io.Copy(t, resp.Body)
	return n, t.tail, err
}

// tailWriter keeps the last bytes written to it.
type tailWriter struct{ tail []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.tail = append(t.tail, p...)
	if len(t.tail) > 64 {
		t.tail = append([]byte(nil), t.tail[len(t.tail)-64:]...)
	}
	return len(p), nil
}
