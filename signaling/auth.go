package signaling

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/contactcenter/vcc/call"
)

// Claims is what a signaling token says about its holder.
type Claims struct {
	Name string    `json:"name"`
	Role call.Role `json:"role"`
	jwt.RegisteredClaims
}

// Auth verifies and mints HS256 tokens with one shared secret.
type Auth struct {
	secret []byte
	parser *jwt.Parser
}

// NewAuth needs a secret of at least 32 bytes: a short HMAC key can be brute-forced offline.
func NewAuth(secret string) (*Auth, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("signaling: auth secret must be at least 32 bytes, got %d", len(secret))
	}
	return &Auth{
		secret: []byte(secret),
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Second)),
	}, nil
}

// Verify returns the user a token belongs to.
func (a *Auth) Verify(token string) (call.UserRef, error) {
	if token == "" {
		return call.UserRef{}, fmt.Errorf("%w: no token", errUnauthorized)
	}
	var c Claims
	_, err := a.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.secret, nil })
	if err != nil {
		reason := "invalid token"
		if errors.Is(err, jwt.ErrTokenExpired) {
			reason = "token expired"
		}
		return call.UserRef{}, fmt.Errorf("%w: %s", errUnauthorized, reason)
	}
	if c.Subject == "" || !c.Role.Valid() {
		return call.UserRef{}, fmt.Errorf("%w: token lacks a subject or a valid role", errUnauthorized)
	}
	name := c.Name
	if name == "" {
		name = c.Subject
	}
	return call.UserRef{ID: c.Subject, Name: name, Role: c.Role}, nil
}

// Mint signs a token for u valid for ttl.
func (a *Auth) Mint(u call.UserRef, ttl time.Duration) (string, error) {
	now := time.Now()
	c := Claims{Name: u.Name, Role: u.Role, RegisteredClaims: jwt.RegisteredClaims{
		Subject: u.ID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.secret)
}
