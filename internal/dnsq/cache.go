package dnsq

import (
	"container/list"
	"slices"
	"sync"
	"time"
)

// Cache keeps Facts until their TTL runs out, at most max domains (the least recently used
// goes first). Unknown facts are never kept: a failed lookup is asked again. The clock is
// the caller's (now), so tests need no sleeping. Safe for concurrent use.
type Cache struct {
	max   int
	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recently used at the front
	byKey map[string]*list.Element
}

type cacheEntry struct {
	f       Facts
	expires time.Time
}

// NewCache makes a cache of at most max domains; max < 1 keeps nothing.
func NewCache(max int) *Cache {
	return &Cache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// Get returns the facts kept for domain (any case, with or without the final dot) while
// they are fresh at now, with TTL lowered to what is left of it. The lists are the cache's
// own: do not change them.
func (c *Cache) Get(domain string, now time.Time) (Facts, bool) {
	key, ok := normDomain(domain)
	if !ok {
		return Facts{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byKey[key]
	if e == nil {
		return Facts{}, false
	}
	ent := e.Value.(*cacheEntry)
	if !now.Before(ent.expires) {
		c.order.Remove(e)
		delete(c.byKey, key)
		return Facts{}, false
	}
	c.order.MoveToFront(e)
	f := ent.f
	f.TTL = ent.expires.Sub(now)
	return f, true
}

// Put keeps f until now + f.TTL (negative answers too); Unknown facts and facts without a
// TTL are not kept. f's lists are copied.
func (c *Cache) Put(f Facts, now time.Time) {
	if f.Status == Unknown || f.Err != nil || f.TTL <= 0 || c.max < 1 {
		return
	}
	key, ok := normDomain(f.Domain)
	if !ok {
		return
	}
	f.Domain = key
	f.NS, f.MX, f.A, f.AAAA = slices.Clone(f.NS), slices.Clone(f.MX), slices.Clone(f.A), slices.Clone(f.AAAA)
	ent := &cacheEntry{f: f, expires: now.Add(f.TTL)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byKey[key]; e != nil {
		e.Value = ent
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(ent)
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*cacheEntry).f.Domain)
	}
}

// Len is how many domains the cache holds (fresh or not yet found stale).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
