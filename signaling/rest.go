package signaling

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/contactcenter/vcc/call"
)

// restRoutes is the REST API over the call records (R25, R26) and the video mode (R6). Every
// request carries a bearer token; the role decides what it may read.
func (s *Server) restRoutes(api fiber.Router) {
	staffOnly := s.requireRole(call.Agent, call.Supervisor, call.Admin)
	api.Get("/calls", staffOnly, s.listCalls)
	api.Get("/calls/:id/timeline", staffOnly, s.timeline)
	api.Get("/calls/:id/recordings", staffOnly, s.recordings)
	api.Get("/calls/:id/recordings/*", staffOnly, s.recording)
	api.Get("/tags", staffOnly, s.searchTags)
	api.Get("/video-mode", staffOnly, s.getMode)
	api.Put("/video-mode", s.requireRole(call.Admin), s.putMode)
}

func (s *Server) requireRole(roles ...call.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := c.Get(fiber.HeaderAuthorization)
		u, err := s.auth.Verify(strings.TrimPrefix(h, "Bearer "))
		if err != nil || !strings.HasPrefix(h, "Bearer ") {
			s.metrics.errors.WithLabelValues(CodeUnauthorized).Inc()
			return fiber.NewError(fiber.StatusUnauthorized, "a bearer token is required")
		}
		for _, r := range roles {
			if u.Role == r {
				c.Locals("user", u)
				return c.Next()
			}
		}
		s.metrics.errors.WithLabelValues(CodeForbidden).Inc()
		return fiber.NewError(fiber.StatusForbidden, "a "+string(u.Role)+" may not read this")
	}
}

func (s *Server) records() (call.Store, error) {
	if s.store == nil {
		return nil, fiber.NewError(fiber.StatusNotFound, "this server keeps no call records")
	}
	return s.store, nil
}

type callRow struct {
	ID        string   `json:"id"`
	Queue     string   `json:"queue"`
	StartedAt string   `json:"started_at"`
	EndedAt   string   `json:"ended_at,omitempty"`
	EndReason string   `json:"end_reason,omitempty"`
	Customer  string   `json:"customer"`
	Agents    []string `json:"agents"`
	Modes     []string `json:"modes"`
	Tags      int      `json:"tags"`
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (s *Server) listCalls(c *fiber.Ctx) error {
	st, err := s.records()
	if err != nil {
		return err
	}
	f := call.CallFilter{Agent: c.Query("agent"), Queue: c.Query("queue"), Customer: c.Query("customer"), EndReason: c.Query("end_reason")}
	for key, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := c.Query(key); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return fiber.NewError(fiber.StatusBadRequest, key+" must be an RFC 3339 time")
			}
			*dst = t
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fiber.NewError(fiber.StatusBadRequest, "limit must be 1..1000")
		}
		f.Limit = n
	}
	calls, err := st.Calls(c.UserContext(), f)
	if err != nil {
		return err
	}
	rows := make([]callRow, len(calls))
	for i, x := range calls {
		rows[i] = callRow{ID: string(x.ID), Queue: x.Queue, StartedAt: rfc(x.StartedAt), EndedAt: rfc(x.EndedAt), EndReason: x.EndReason,
			Customer: x.Customer, Agents: x.Agents, Modes: x.Modes, Tags: x.Tags}
	}
	return c.JSON(fiber.Map{"calls": rows})
}

type recordRow struct {
	Seq   int               `json:"seq"`
	At    string            `json:"at"`
	Type  string            `json:"type"`
	Actor string            `json:"actor,omitempty"`
	Role  string            `json:"role,omitempty"`
	Data  map[string]string `json:"data,omitempty"`
}

func (s *Server) timeline(c *fiber.Ctx) error {
	st, err := s.records()
	if err != nil {
		return err
	}
	recs, err := st.Timeline(c.UserContext(), call.CallID(c.Params("id")))
	if err != nil {
		if call.CodeOf(err) == "not_found" {
			return fiber.NewError(fiber.StatusNotFound, "no such call")
		}
		return err
	}
	rows := make([]recordRow, len(recs))
	for i, r := range recs {
		rows[i] = recordRow{Seq: r.Seq, At: rfc(r.At), Type: r.Type, Actor: r.Actor, Role: r.Role, Data: r.Data}
	}
	return c.JSON(fiber.Map{"call_id": c.Params("id"), "records": rows})
}

func (s *Server) searchTags(c *fiber.Ctx) error {
	st, err := s.records()
	if err != nil {
		return err
	}
	tags, err := st.SearchTags(c.UserContext(), c.Query("q"), 100)
	if err != nil {
		return err
	}
	out := make([]fiber.Map, len(tags))
	for i, t := range tags {
		out[i] = fiber.Map{"call_id": t.CallID, "at": rfc(t.At), "by": t.By, "text": t.Text}
	}
	return c.JSON(fiber.Map{"tags": out})
}

func (s *Server) getMode(c *fiber.Ctx) error {
	m, err := s.center.VideoMode(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"mode": m})
}

func (s *Server) putMode(c *fiber.Ctx) error {
	var body struct {
		Mode string `json:"mode"`
	}
	if err := c.BodyParser(&body); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, `body must be {"mode": "sfu"|"mcu"|"auto"}`)
	}
	u, _ := c.Locals("user").(call.UserRef)
	if err := s.center.SetVideoMode(c.UserContext(), u, call.Mode(body.Mode)); err != nil {
		if call.CodeOf(err) == "bad_request" {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
		return err
	}
	return s.getMode(c)
}
