package call

import (
	"reflect"
	"testing"
)

// R21, R22: what each viewer of an MCU call sees. A layout choice is per viewer and stored in the
// state, so the room can give each viewer its own composite; a screen share overrides every choice.
func TestPicture(t *testing.T) { // R21 R22
	s := conference(pAnn, pZoe, pAmy, pMax)
	tiles := []Tile{{Party: "ann", Name: "Ann", Video: true}, {Party: "zoe", Name: "Zoe", Video: true},
		{Party: "amy", Name: "Amy", Video: true}, {Party: "max", Name: "Max", Video: true}}

	eq := RoutingOf(s)["ann"].Picture
	if want := (Picture{Layout: LayoutEqual, Tiles: tiles, Big: -1}); !reflect.DeepEqual(eq, want) {
		t.Fatalf("default picture\n got %+v\nwant %+v", eq, want)
	}

	for _, c := range []struct {
		layout string
		big    PartyID
	}{
		{LayoutMaxCustomer, "ann"},
		{LayoutMaxAgent, "zoe"}, // the controlling agent
		{LayoutMaxThird, "max"}, // in calls of more than three, the most recently added party
	} {
		next, _, err := Next(s, SetLayout{By: "amy", Layout: c.layout})
		if err != nil {
			t.Fatalf("%s: %v", c.layout, err)
		}
		rt := RoutingOf(next)
		got := rt["amy"].Picture
		if got.Layout != c.layout || got.Big < 0 || got.Tiles[got.Big].Party != c.big {
			t.Errorf("%s: amy sees %+v, want %s large", c.layout, got, c.big)
		}
		if !reflect.DeepEqual(rt["ann"].Picture, eq) || !reflect.DeepEqual(rt["zoe"].Picture, eq) {
			t.Errorf("%s: another viewer's picture changed with amy's choice", c.layout)
		}
		if got := View(next, "amy").Layout; got != c.layout {
			t.Errorf("%s: amy's call_state says layout %q", c.layout, got)
		}
		if got := View(next, "ann").Layout; got != LayoutEqual {
			t.Errorf("%s: ann's call_state says layout %q, want equal", c.layout, got)
		}
		if rt["amy"].Picture.Key() == eq.Key() {
			t.Errorf("%s: amy's picture has the key of the equal one", c.layout)
		}
	}

	// R22: a running share is the large tile for everyone, whatever they chose; cameras stay small.
	next, _, err := Next(s, SetLayout{By: "amy", Layout: LayoutMaxCustomer})
	if err != nil {
		t.Fatal(err)
	}
	next, _, err = Next(next, ScreenShare{By: "zoe", On: true})
	if err != nil {
		t.Fatal(err)
	}
	for id, r := range RoutingOf(next) {
		p := r.Picture
		if p.Layout != LayoutScreenShare || p.Big != 0 || !p.Tiles[0].Screen || p.Tiles[0].Party != "zoe" || len(p.Tiles) != 5 {
			t.Errorf("R22: %s sees %+v during zoe's share", id, p)
		}
	}

	// A held party is not seen; a max choice whose party is not seen falls back to equal. A phone
	// party is a tile without video (a name plate with its number).
	s = conference(pAnn, pZoe, pPat)
	s.Parties[0].Held = true
	s.Parties[1].Layout = LayoutMaxCustomer
	rt := RoutingOf(s)
	want := Picture{Layout: LayoutEqual, Big: -1, Tiles: []Tile{{Party: "zoe", Name: "Zoe", Video: true}, {Party: "tel:+100", Name: "+100"}}}
	if !reflect.DeepEqual(rt["zoe"].Picture, want) {
		t.Errorf("held customer:\n got %+v\nwant %+v", rt["zoe"].Picture, want)
	}
	if !reflect.DeepEqual(rt["ann"], Reception{Music: true}) {
		t.Errorf("held customer receives %+v", rt["ann"])
	}
}
