package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/codec"
	"pacto/workflows"
)

// The digest schedule's arguments are read with the worker's codec, and
// rewritten when they are not sealed under its encrypting key: turning
// the codec on, or rotating its key, leaves no schedule only an older key
// opens; a worker whose key they are already under leaves it alone.
func TestDigestScheduleFollowsTheCodecKey(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{Logger: sdklog.NewStructuredLogger(quiet)}))
	a, _ := codec.NewKey("a")
	b, _ := codec.NewKey("b")
	dial := func(keys ...codec.Key) (client.Client, TemporalConfig) {
		t.Helper()
		cfg := TemporalConfig{Address: ts.GetFrontendHostPort(), Namespace: ts.GetDefaultNamespace()}
		if len(keys) > 0 {
			cx, err := codec.New(keys)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Codec = cx
		}
		c, err := DialTemporal(cfg, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c, cfg
	}
	// stored is the key the schedule's arguments are under ("" for plain),
	// the version they say, and when the schedule was last updated.
	stored := func(c client.Client, dc converter.DataConverter) (string, int, time.Time) {
		t.Helper()
		d, err := c.ScheduleClient().GetHandle(ctx, workflows.DigestScheduleID).Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := d.Schedule.Action.(*client.ScheduleWorkflowAction).Args[0].(*commonpb.Payload)
		if dc == nil {
			dc = converter.GetDefaultDataConverter()
		}
		return string(p.Metadata[codec.MetadataKeyID]), digestActionVersion(d.Schedule.Action, dc, workflows.TaskQueue), d.Info.LastUpdateAt
	}
	ensure := func(c client.Client, cfg TemporalConfig) {
		t.Helper()
		if err := EnsureDigestSchedule(ctx, c, cfg.DataConverter(), ""); err != nil {
			t.Fatal(err)
		}
	}

	plain, plainCfg := dial()
	ensure(plain, plainCfg)
	if key, v, _ := stored(plain, nil); key != "" || v != workflows.DigestVersion {
		t.Fatalf("without a codec: key %q version %d", key, v)
	}
	withA, cfgA := dial(a)
	ensure(withA, cfgA)
	if key, v, _ := stored(withA, cfgA.DataConverter()); key != "a" || v != workflows.DigestVersion {
		t.Fatalf("once the codec is on: key %q version %d; want a, %d", key, v, workflows.DigestVersion)
	}
	withAB, cfgAB := dial(a, b)
	ensure(withAB, cfgAB)
	key, v, before := stored(withAB, cfgAB.DataConverter())
	if key != "b" || v != workflows.DigestVersion || before.IsZero() {
		t.Fatalf("after the rotation: key %q version %d updated %s; want b, %d", key, v, before, workflows.DigestVersion)
	}
	// Again, with the key it is under: nothing to write.
	time.Sleep(10 * time.Millisecond)
	ensure(withAB, cfgAB)
	if _, _, after := stored(withAB, cfgAB.DataConverter()); !after.Equal(before) {
		t.Fatalf("the schedule was rewritten (%s, then %s) though already under the encrypting key", before, after)
	}
}
