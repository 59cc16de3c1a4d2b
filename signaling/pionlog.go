package signaling

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// pionLogs routes pion's logs into the server's slog logger, one child per pion scope. pion's
// Info is our Debug (it narrates ICE), and errors pion reports while a connection is being torn down
// ("closed pipe") are expected at every hang-up, so they are Debug too.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) emit(level slog.Level, msg string) {
	if level >= slog.LevelWarn && (strings.Contains(msg, "closed pipe") || strings.Contains(msg, "use of closed")) {
		level = slog.LevelDebug
	}
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, msg)
	}
}

// emitf formats only when the level is on: pion passes live structs (a TrackRemote) to its debug
// lines, and formatting them unasked would read them without pion's locks.
func (l pionLogger) emitf(level slog.Level, f string, a ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.emit(level, fmt.Sprintf(f, a...))
	}
}

func (l pionLogger) Trace(string)              {}
func (l pionLogger) Tracef(string, ...any)     {}
func (l pionLogger) Debug(m string)            { l.emit(slog.LevelDebug-4, m) }
func (l pionLogger) Debugf(f string, a ...any) { l.emitf(slog.LevelDebug-4, f, a...) }
func (l pionLogger) Info(m string)             { l.emit(slog.LevelDebug, m) }
func (l pionLogger) Infof(f string, a ...any)  { l.emitf(slog.LevelDebug, f, a...) }
func (l pionLogger) Warn(m string)             { l.emit(slog.LevelWarn, m) }
func (l pionLogger) Warnf(f string, a ...any)  { l.emitf(slog.LevelWarn, f, a...) }
func (l pionLogger) Error(m string)            { l.emit(slog.LevelError, m) }
func (l pionLogger) Errorf(f string, a ...any) { l.emitf(slog.LevelError, f, a...) }
