package signaling

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/contactcenter/vcc/call"
)

// WithRecordings serves the media recordings kept under dir (one directory per call) to staff.
func WithRecordings(dir string) Option { return func(s *Server) { s.recDir = dir } }

type recordingRow struct {
	File  string   `json:"file"`
	Media string   `json:"media"`
	Part  string   `json:"part"`
	Size  int64    `json:"size"`
	URL   string   `json:"url"`
	Tags  []string `json:"tags,omitempty"`
}

// recordings lists a call's media files (R26) with the call's tags, from its record: what the
// record does not name is never served.
func (s *Server) recordings(c *fiber.Ctx) error {
	files, tags, err := s.recordedFiles(c)
	if err != nil {
		return err
	}
	rows := make([]recordingRow, 0, len(files))
	for _, r := range files {
		row := recordingRow{File: r.Data["file"], Media: r.Data["media"], Part: r.Data["part"], Tags: tags,
			URL: "/api/calls/" + c.Params("id") + "/recordings/" + r.Data["file"]}
		if fi, err := os.Stat(filepath.Join(s.recDir, c.Params("id"), filepath.FromSlash(r.Data["file"]))); err == nil {
			row.Size = fi.Size()
		}
		rows = append(rows, row)
	}
	return c.JSON(fiber.Map{"call_id": c.Params("id"), "recordings": rows})
}

// recording sends one file named by the call's record.
func (s *Server) recording(c *fiber.Ctx) error {
	files, _, err := s.recordedFiles(c)
	if err != nil {
		return err
	}
	name := c.Params("*")
	for _, r := range files {
		if r.Data["file"] == name {
			c.Set(fiber.HeaderContentType, "video/webm")
			c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+c.Params("id")+"-"+strings.ReplaceAll(name, "/", "-")+`"`)
			return c.SendFile(filepath.Join(s.recDir, c.Params("id"), filepath.FromSlash(name)))
		}
	}
	return fiber.NewError(fiber.StatusNotFound, "no such recording")
}

func (s *Server) recordedFiles(c *fiber.Ctx) ([]call.Record, []string, error) {
	st, err := s.records()
	if err != nil {
		return nil, nil, err
	}
	if s.recDir == "" {
		return nil, nil, fiber.NewError(fiber.StatusNotFound, "this server keeps no recordings")
	}
	recs, err := st.Timeline(c.UserContext(), call.CallID(c.Params("id")))
	if err != nil {
		if call.CodeOf(err) == "not_found" {
			return nil, nil, fiber.NewError(fiber.StatusNotFound, "no such call")
		}
		return nil, nil, err
	}
	var files []call.Record
	var tags []string
	for _, r := range recs {
		switch r.Type {
		case call.RecRecordingFile:
			files = append(files, r)
		case call.RecTag:
			tags = append(tags, r.Data["text"])
		}
	}
	return files, tags, nil
}
