package maillog

// senderMap remembers the sender of each queued message, by host and queue id, until the
// message is removed from the queue. It holds at most max entries: when full, the oldest
// entry goes (a message whose removal was not logged, or a log that starts in the middle).
type senderMap struct {
	max   int
	m     map[string]senderEntry // key: host NUL queue id
	order []orderRef             // insertion order; order[head:] is live or stale
	head  int
	seq   uint64
	buf   []byte
}

type senderEntry struct {
	from string
	seq  uint64 // which orderRef is this entry's
}

type orderRef struct {
	key string
	seq uint64
}

func newSenderMap(max int) *senderMap {
	return &senderMap{max: max, m: map[string]senderEntry{}}
}

func (s *senderMap) key(host, qid []byte) []byte {
	s.buf = append(append(append(s.buf[:0], host...), 0), qid...)
	return s.buf
}

func (s *senderMap) get(host, qid []byte) (string, bool) {
	e, ok := s.m[string(s.key(host, qid))]
	return e.from, ok
}

func (s *senderMap) remove(host, qid []byte) {
	delete(s.m, string(s.key(host, qid)))
	s.compact()
}

func (s *senderMap) put(host, qid, from string) {
	k := string(s.key([]byte(host), []byte(qid)))
	s.seq++
	s.m[k] = senderEntry{from: from, seq: s.seq}
	s.order = append(s.order, orderRef{key: k, seq: s.seq})
	for len(s.m) > s.max && s.head < len(s.order) {
		r := s.order[s.head]
		s.order[s.head] = orderRef{}
		s.head++
		if e, ok := s.m[r.key]; ok && e.seq == r.seq {
			delete(s.m, r.key)
		}
	}
	s.compact()
}

// compact drops the evicted prefix of the order list and the references that no longer
// point at an entry, when they are most of it: the list stays within a small multiple of
// the map's size, at an amortised constant cost per operation.
func (s *senderMap) compact() {
	if s.head <= len(s.order)/2 && len(s.order)-s.head <= 2*len(s.m)+1024 {
		return
	}
	live := s.order[:0]
	for _, r := range s.order[s.head:] {
		if e, ok := s.m[r.key]; ok && e.seq == r.seq {
			live = append(live, r)
		}
	}
	clear(s.order[len(live):])
	s.order, s.head = live, 0
}

func (s *senderMap) len() int { return len(s.m) }
