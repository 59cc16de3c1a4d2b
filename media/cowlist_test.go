package media

import (
	"reflect"
	"testing"
)

func TestCowList(t *testing.T) {
	var c CowList[int]
	if c.Load() != nil {
		t.Fatal("zero value not empty")
	}
	c.Add(1)
	c.Add(2)
	c.Add(1)
	before := c.Load()
	c.Remove(1)
	if !reflect.DeepEqual(c.Load(), []int{2}) || !reflect.DeepEqual(before, []int{1, 2}) {
		t.Fatalf("now %v, the earlier snapshot %v (must not change)", c.Load(), before)
	}
	c.Remove(9)
	if !reflect.DeepEqual(c.Load(), []int{2}) {
		t.Fatalf("removing an absent value changed the list: %v", c.Load())
	}
}
