package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/vcc/call"
)

// BenchmarkAppend measures durable appends (each acknowledged after its fsync, see Open):
// one call loop at a time, and many at once, with and without group commit.
func BenchmarkAppend(b *testing.B) {
	rec := func(id call.CallID, seq int) call.Record {
		return call.Record{CallID: id, Seq: seq, At: time.Now(), Type: call.RecMedia, Actor: "amy", Role: "controlling_agent",
			Data: map[string]string{"audio": "true", "video": "true"}}
	}
	b.Run("serial", func(b *testing.B) {
		s, _ := openTemp(b)
		ctx := context.Background()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := s.Append(ctx, rec("c", i+1)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	for _, bc := range []struct {
		name  string
		batch int
	}{{"parallel", 256}, {"parallel-nogroup", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := openTemp(b, WithMaxBatch(bc.batch))
			ctx := context.Background()
			var calls atomic.Int64
			b.SetParallelism(16) // 16 call loops per core: a busy node, not two calls
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				id := call.CallID(fmt.Sprint("c", calls.Add(1)))
				for seq := 1; pb.Next(); seq++ {
					if err := s.Append(ctx, rec(id, seq)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
