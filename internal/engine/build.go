package engine

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/rcptguard/rcptguard/internal/confusables"
)

// Building the index on all CPUs. The keys are made in rounds: in each round the workers
// hash the next candidates and groups, a chunk at a time, into one buffer per region of
// the table (a region is a range of slots), then insert them, a region at a time, taking
// the buffers in the order of the keys. So no two workers write the same slot, and equal
// keys end up side by side in the same order as a sequential build would leave them:
// lookups return the same ids in the same order. A key whose probe runs past the end of
// its region is kept aside and inserted at the end. There are several chunks and regions
// for each worker, taken in turn by whichever worker is free, so that a worker the system
// runs late holds the others up less.

// chunkItems is how many names or groups a chunk has, and chunksPerWorker how many
// chunks a round has for each worker and how many regions the table has for each:
// enough to keep the workers busy between two waits, few enough that the buffers stay
// small (about 3 MB for each worker).
const (
	chunkItems      = 1 << 12
	chunksPerWorker = 4
)

// key is one key of the index with its id.
type key struct {
	h  uint64
	id uint32
}

// countKeys is the number of keys fillIndex inserts.
func (e *Engine) countKeys() int {
	n := len(e.cands)
	for _, g := range e.groups {
		n += 1 + countDeletions(g.pre)
		if confusables.Skeleton(g.pre) != g.pre {
			n++
		}
	}
	return n
}

// groupKeys appends the keys of group g (its label part, with hash nearHash, each of its
// deletions and its skeleton) to the buffers of their regions.
func groupKeys(bufs [][]key, pre string, nearHash uint64, g uint32, region func(uint64) int) {
	add := func(h uint64) {
		r := region(h)
		bufs[r] = append(bufs[r], key{h, g})
	}
	add(nearHash)
	deletions(kindNear, pre, add)
	if sk := confusables.Skeleton(pre); sk != pre {
		add(hashKey(kindSkel, sk))
	}
}

// fillIndex inserts every key into ix: each candidate's name (nameHash[i] is the hash of
// candidate i's), then each group's label part (nearHash[g]), deletions and skeleton.
func (e *Engine) fillIndex(ix *index, nameHash, nearHash []uint64) {
	workers := min(runtime.GOMAXPROCS(0), 8)
	parts := chunksPerWorker * workers // chunks in a round, and regions
	if len(ix.slots) < 1<<16 {
		workers, parts = 1, 1
	}
	// Slot j is in region j*parts/len(slots); region r starts at the first slot in it.
	bits := 64 - ix.shift
	region := func(h uint64) int { return int((h >> ix.shift) * uint64(parts) >> bits) }
	start := func(r int) uint64 { return (uint64(r)<<bits + uint64(parts) - 1) / uint64(parts) }
	ins := make([]inserter, parts)
	for r := range ins {
		ins[r] = inserter{ix: ix, hi: start(r + 1), wrap: parts == 1}
	}
	bufs := make([][][]key, parts) // bufs[chunk][region]
	for c := range bufs {
		bufs[c] = make([][]key, parts)
	}
	// each runs f(0), ..., f(parts-1) on the workers, and returns when all are done.
	each := func(f func(int)) {
		var next atomic.Int32
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < parts; i = int(next.Add(1)) - 1 {
					f(i)
				}
			})
		}
		wg.Wait()
	}

	items := len(e.cands) + len(e.groups)
	for first := 0; first < items; first += parts * chunkItems {
		each(func(c int) {
			b := bufs[c]
			for r := range b {
				b[r] = b[r][:0]
			}
			lo := min(items, first+c*chunkItems)
			for i := lo; i < min(items, lo+chunkItems); i++ {
				if i < len(e.cands) {
					h := nameHash[i]
					b[region(h)] = append(b[region(h)], key{h, uint32(i)})
					continue
				}
				g := i - len(e.cands)
				groupKeys(b, e.groups[g].pre, nearHash[g], uint32(g), region)
			}
		})
		each(func(r int) {
			for c := range bufs {
				ins[r].insert(bufs[c][r])
			}
		})
	}
	var sink uint32
	for r := range ins {
		ins[r].wrap = true
		ins[r].hi = uint64(len(ix.slots))
		for _, k := range ins[r].overflow {
			ins[r].put(k)
		}
		sink += ins[r].sink
	}
	ix.sink = sink
}

// inserter inserts the keys homed in one region of an index, which ends before slot hi.
// Keys are inserted in small batches whose first slots are touched first, so that their
// cache misses overlap instead of coming one after another.
type inserter struct {
	ix       *index
	hi       uint64
	wrap     bool  // probe past hi to the start of the table; else keep the key aside
	overflow []key // keys whose probe ran past hi
	hs       [touchBatch]uint64
	sink     uint32
}

func (in *inserter) insert(keys []key) {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), len(in.hs))]
		keys = keys[len(batch):]
		for i, k := range batch {
			in.hs[i] = k.h
		}
		in.sink += in.ix.touch(in.hs[:len(batch)])
		for _, k := range batch {
			in.put(k)
		}
	}
}

func (in *inserter) put(k key) {
	ix := in.ix
	for j := k.h >> ix.shift; ; j++ {
		if j == in.hi {
			if !in.wrap {
				in.overflow = append(in.overflow, k)
				return
			}
			j = 0
		}
		if ix.slots[j] == 0 {
			ix.slots[j] = ix.fingerprint(k.h) | (k.id + 1)
			return
		}
	}
}
