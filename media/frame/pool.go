package frame

import "sync"

// Pool recycles frames by size. Decoders and compositors take a frame per picture and the MCU keeps
// only the latest per track, so without a pool each picture would be a fresh 0.5-1.4 MB allocation
// and garbage. One sync.Pool per size keeps frames of a size together (a 320x240 frame is no use to
// a 1280x720 canvas); the map is per Pool value, never package state.
// A Pool is safe for concurrent use; the zero value is ready.
type Pool struct {
	mu    sync.Mutex
	sizes map[[2]int]*sync.Pool
}

// Get returns a frame of the given size with tight strides; its pixels are unspecified.
func (p *Pool) Get(width, height int) (*I420, error) {
	if width <= 0 || height <= 0 || width > maxDim || height > maxDim {
		return nil, ErrSize
	}
	if f, ok := p.pool(width, height).Get().(*I420); ok {
		return f, nil
	}
	return NewI420(width, height)
}

// Put returns a frame for reuse. The caller must not touch it afterwards. Frames resized since Get
// go back under their current size.
func (p *Pool) Put(f *I420) {
	if !f.Valid() || f.StrideY != f.Width {
		return // not a frame this pool could hand out again as tight
	}
	p.pool(f.Width, f.Height).Put(f)
}

func (p *Pool) pool(width, height int) *sync.Pool {
	key := [2]int{width, height}
	p.mu.Lock()
	defer p.mu.Unlock()
	sp := p.sizes[key]
	if sp == nil {
		if p.sizes == nil {
			p.sizes = make(map[[2]int]*sync.Pool)
		}
		sp = &sync.Pool{}
		p.sizes[key] = sp
	}
	return sp
}
