package devserver

import (
	"testing"
	"time"

	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
)

// The history service reads its settings through a dynamic config
// collection: the one shard's task queues are read at the raised rate, and
// the timer queue reads a tenth of a second ahead, not the defaults.
func TestDynamicConfigAsTheHistoryServiceReadsIt(t *testing.T) {
	c := dynamicconfig.NewCollection(dynamicConfig(), log.NewNoopLogger())
	for name, got := range map[string]int{
		"timer":      dynamicconfig.TimerProcessorMaxPollRPS.Get(c)(),
		"transfer":   dynamicconfig.TransferProcessorMaxPollRPS.Get(c)(),
		"visibility": dynamicconfig.VisibilityProcessorMaxPollRPS.Get(c)(),
	} {
		if got != shardReadsPerSecond {
			t.Errorf("%s queue reads at most %d times a second; want %d", name, got, shardReadsPerSecond)
		}
	}
	if got := dynamicconfig.TimerProcessorMaxTimeShift.Get(c)(); got != 100*time.Millisecond {
		t.Errorf("timer queue reads %s ahead; want 100ms", got)
	}
	if got := dynamicconfig.HistoryCacheHostLevelMaxSize.Get(c)(); got != historyCacheSize {
		t.Errorf("history cache of %d; want %d", got, historyCacheSize)
	}
}
