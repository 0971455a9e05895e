package inspect_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/devserver/devserver/emulator/inspect"
)

// TestMemoryStaysBounded sends 10,000 requests whose bodies, events, results and logs are all
// far over the body limit, and checks that the recorder holds what its ring and limit allow:
// by its own accounting, and by the heap after a collection.
func TestMemoryStaysBounded(t *testing.T) {
	const requests = 10000
	for _, tc := range []struct{ size, limit int }{{50, 8 << 10}, {200, 2 << 10}} {
		t.Run(fmt.Sprintf("%d entries of %d KB", tc.size, tc.limit>>10), func(t *testing.T) {
			g := newRig(inspect.Options{Size: tc.size, BodyLimit: tc.limit})
			body := bytes.Repeat([]byte("b"), 2*tc.limit)
			g.inv.log = strings.Repeat("a log line of the function\n", 2*tc.limit/27+1)
			g.inv.result = func(ev []byte) []byte { return append(ev, ev...) } // twice the event
			// Each entry holds five cut parts (request and response bodies, event, result, log)
			// and two header sets, each at most limit, besides fixed costs.
			perEntry := int64(7*tc.limit + 2048)
			bound := int64(tc.size) * perEntry

			g.do("POST", "/warm", body, nil) // first-use allocations belong before the baseline
			g.rec.Clear()
			before := heap()
			for i := range requests {
				g.do("POST", fmt.Sprintf("/r/%d", i), body, nil)
			}
			after := heap()
			st := g.rec.Stats()
			growth := int64(after) - int64(before)
			t.Logf("%d requests of %d KB each way: %d entries kept, %d KB held by the recorder's count, heap grew %d KB (bound %d KB; unbounded it would hold %d MB)",
				requests, 2*tc.limit>>10, st.Entries, st.Bytes>>10, growth>>10, bound>>10, requests*int64(len(body))*5>>20)
			if st.Entries != tc.size {
				t.Errorf("%d entries kept, want %d", st.Entries, tc.size)
			}
			if st.Bytes > bound {
				t.Errorf("the recorder counts %d bytes held, over its bound of %d", st.Bytes, bound)
			}
			if min := int64(tc.size) * int64(5*tc.limit); st.Bytes < min {
				t.Errorf("the recorder counts %d bytes, under the %d its entries must hold: the count is wrong", st.Bytes, min)
			}
			// The heap grows by what the ring holds and nothing per request: allow the ring's
			// bound twice over for allocator slack, which 10,000 leaked requests would pass
			// a hundredfold.
			if growth > 2*bound {
				t.Errorf("heap grew %d bytes over %d requests; the ring's bound is %d", growth, requests, bound)
			}
		})
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
