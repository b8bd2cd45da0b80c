package comment

import (
	"sync"
	"sync/atomic"
)

// renderedComments holds the HTML of comments that went through the
// Markdown parser and link to no anchor, so that it depends on nothing
// but their text: large APIs repeat such descriptions (paging fields,
// resource names) on many elements. It stops growing at
// maxRenderedComments bytes.
var renderedComments commentCache

const maxRenderedComments = 8 << 20

type commentCache struct {
	m    sync.Map // source → HTML
	size atomic.Int64
}

func (c *commentCache) get(src string) (string, bool) {
	h, ok := c.m.Load(src)
	if !ok {
		return "", false
	}
	return h.(string), true
}

func (c *commentCache) put(src, h string) {
	if c.size.Load() >= maxRenderedComments {
		return
	}
	if _, loaded := c.m.LoadOrStore(src, h); !loaded {
		c.size.Add(int64(len(src) + len(h) + 64))
	}
}

// reset empties the cache.
func (c *commentCache) reset() {
	c.m.Clear()
	c.size.Store(0)
}
