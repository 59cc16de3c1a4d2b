package store

import (
	"testing"

	"go.uber.org/goleak"
)

// The writer goroutine and database/sql's pool goroutines must all end at Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
