// Thin C helpers over libvpx for package vp8. They keep libvpx's structs and unions on the C side
// (cgo handles C unions and varargs controls poorly) and never keep a Go pointer after returning,
// as the cgo pointer rules require.
#ifndef VCC_VP8_VPX_H
#define VCC_VP8_VPX_H

#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_codec_enc_cfg_t cfg;
	vpx_image_t img;
	vpx_codec_iter_t iter;
	int64_t pts;
	// Output of vcc_enc_next, kept here rather than in Go out-parameters, which would escape to the
	// heap on every call.
	const unsigned char *out;
	size_t out_sz;
	int out_key;
} vcc_enc;

typedef struct {
	vpx_codec_ctx_t ctx;
	vpx_image_t *img;
	unsigned char *buf; // copy of the compressed frame, so libvpx never sees Go memory
	size_t cap;
	// Results of vcc_dec_decode (see vcc_enc.out for why they live here).
	int corrupt, w, h;
} vcc_dec;

// vcc_enc_new returns NULL and sets *err to a libvpx error code on failure.
static vcc_enc *vcc_enc_new(int w, int h, int fps, int kbps, int cpu, int kfmax, int static_thresh, int *err) {
	vcc_enc *e = calloc(1, sizeof(vcc_enc));
	if (!e) { *err = VPX_CODEC_MEM_ERROR; return NULL; }
	vpx_codec_err_t rc = vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &e->cfg, 0);
	if (rc != VPX_CODEC_OK) { free(e); *err = rc; return NULL; }
	e->cfg.g_w = w;
	e->cfg.g_h = h;
	e->cfg.g_timebase.num = 1;
	e->cfg.g_timebase.den = fps;
	e->cfg.g_threads = 1;
	e->cfg.g_lag_in_frames = 0;                       // realtime: no lookahead, no added latency
	e->cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT; // receivers survive lost frames
	e->cfg.g_pass = VPX_RC_ONE_PASS;
	e->cfg.rc_end_usage = VPX_CBR;
	e->cfg.rc_target_bitrate = kbps;
	e->cfg.rc_dropframe_thresh = 0;                   // one encoder feeds every viewer of a layout: never skip
	e->cfg.rc_min_quantizer = 2;
	e->cfg.rc_max_quantizer = 56;
	e->cfg.rc_undershoot_pct = 100;                   // WebRTC's realtime rate-control values
	e->cfg.rc_overshoot_pct = 15;
	e->cfg.rc_buf_initial_sz = 500;
	e->cfg.rc_buf_optimal_sz = 600;
	e->cfg.rc_buf_sz = 1000;
	e->cfg.kf_mode = VPX_KF_AUTO;
	e->cfg.kf_min_dist = 0;
	e->cfg.kf_max_dist = kfmax;
	rc = vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), &e->cfg, 0);
	if (rc != VPX_CODEC_OK) { free(e); *err = rc; return NULL; }
	if ((rc = vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, cpu)) != VPX_CODEC_OK ||
	    (rc = vpx_codec_control(&e->ctx, VP8E_SET_STATIC_THRESHOLD, static_thresh)) != VPX_CODEC_OK ||
	    (rc = vpx_codec_control(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, 0)) != VPX_CODEC_OK ||
	    // Caps keyframes at 3x an average frame so a forced keyframe does not burst the pacer.
	    (rc = vpx_codec_control(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, 300)) != VPX_CODEC_OK) {
		vpx_codec_destroy(&e->ctx); free(e); *err = rc; return NULL;
	}
	// The image header only describes the planes; vcc_enc_encode points it at the caller's frame,
	// so no image buffer is ever allocated or copied on the Go side of the call.
	e->img.fmt = VPX_IMG_FMT_I420;
	e->img.cs = VPX_CS_BT_601;
	e->img.range = VPX_CR_STUDIO_RANGE;
	e->img.w = e->img.d_w = e->img.r_w = w;
	e->img.h = e->img.d_h = e->img.r_h = h;
	e->img.x_chroma_shift = e->img.y_chroma_shift = 1;
	e->img.bps = 12;
	return e;
}

static int vcc_enc_set_bitrate(vcc_enc *e, int kbps) {
	e->cfg.rc_target_bitrate = kbps;
	return vpx_codec_enc_config_set(&e->ctx, &e->cfg);
}

// vcc_enc_set_active passes libvpx a map of rows x cols macroblocks, nonzero where the next frames
// may have changed, or NULL to code every macroblock. libvpx copies the map (vp8_set_active_map).
static int vcc_enc_set_active(vcc_enc *e, unsigned char *map, int rows, int cols) {
	vpx_active_map_t m = {map, (unsigned int)rows, (unsigned int)cols};
	return vpx_codec_control(&e->ctx, VP8E_SET_ACTIVEMAP, &m);
}

// vcc_enc_encode encodes one frame. The planes are Go memory: libvpx copies them into its own
// frame buffers inside vpx_codec_encode (lag 0), and the pointers are cleared before returning.
static int vcc_enc_encode(vcc_enc *e, unsigned char *y, unsigned char *u, unsigned char *v,
                          int sy, int su, int sv, int force_kf) {
	e->img.planes[VPX_PLANE_Y] = y;
	e->img.planes[VPX_PLANE_U] = u;
	e->img.planes[VPX_PLANE_V] = v;
	e->img.stride[VPX_PLANE_Y] = sy;
	e->img.stride[VPX_PLANE_U] = su;
	e->img.stride[VPX_PLANE_V] = sv;
	vpx_codec_err_t rc = vpx_codec_encode(&e->ctx, &e->img, e->pts, 1,
	                                      force_kf ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME);
	e->img.planes[VPX_PLANE_Y] = e->img.planes[VPX_PLANE_U] = e->img.planes[VPX_PLANE_V] = NULL;
	e->pts++;
	e->iter = NULL;
	return rc;
}

// vcc_enc_next sets e->out* to the next compressed frame of the last encode, returning 0 when
// there is none. The data stays valid until the next encode.
static int vcc_enc_next(vcc_enc *e) {
	const vpx_codec_cx_pkt_t *pkt;
	while ((pkt = vpx_codec_get_cx_data(&e->ctx, &e->iter)) != NULL) {
		if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
		e->out = pkt->data.frame.buf;
		e->out_sz = pkt->data.frame.sz;
		e->out_key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
		return 1;
	}
	return 0;
}

static void vcc_enc_free(vcc_enc *e) {
	vpx_codec_destroy(&e->ctx);
	free(e);
}

static vcc_dec *vcc_dec_new(int *err) {
	vcc_dec *d = calloc(1, sizeof(vcc_dec));
	if (!d) { *err = VPX_CODEC_MEM_ERROR; return NULL; }
	vpx_codec_dec_cfg_t cfg = {0};
	cfg.threads = 1;
	vpx_codec_err_t rc = vpx_codec_dec_init(&d->ctx, vpx_codec_vp8_dx(), &cfg, 0);
	if (rc != VPX_CODEC_OK) { free(d); *err = rc; return NULL; }
	return d;
}

// vcc_dec_decode decodes one frame copied from Go memory. It returns a libvpx error code, with
// d->corrupt set when libvpx decoded but flagged the picture as damaged, and d->w, d->h the size of
// the picture that is ready (0 when none).
static int vcc_dec_decode(vcc_dec *d, const unsigned char *data, size_t n) {
	d->w = d->h = 0;
	d->corrupt = 0;
	d->img = NULL;
	if (n > d->cap) {
		unsigned char *nb = realloc(d->buf, n);
		if (!nb) return VPX_CODEC_MEM_ERROR;
		d->buf = nb;
		d->cap = n;
	}
	memcpy(d->buf, data, n);
	vpx_codec_err_t rc = vpx_codec_decode(&d->ctx, d->buf, (unsigned int)n, NULL, 0);
	if (rc != VPX_CODEC_OK) return rc;
	if (vpx_codec_control(&d->ctx, VP8D_GET_FRAME_CORRUPTED, &d->corrupt) != VPX_CODEC_OK) d->corrupt = 0;
	vpx_codec_iter_t iter = NULL;
	vpx_image_t *img = vpx_codec_get_frame(&d->ctx, &iter);
	if (img && img->fmt == VPX_IMG_FMT_I420) {
		d->img = img;
		d->w = img->d_w;
		d->h = img->d_h;
	}
	return VPX_CODEC_OK;
}

static void copy_plane(unsigned char *dst, int dstride, const unsigned char *src, int sstride, int w, int h) {
	for (int r = 0; r < h; r++) memcpy(dst + (size_t)r * dstride, src + (size_t)r * sstride, w);
}

// vcc_dec_copy copies the picture of the last decode into the caller's planes (Go memory, checked
// by the caller to hold the picture's size).
static void vcc_dec_copy(vcc_dec *d, unsigned char *y, unsigned char *u, unsigned char *v, int sy, int su, int sv) {
	vpx_image_t *img = d->img;
	int w = img->d_w, h = img->d_h, cw = (w + 1) / 2, ch = (h + 1) / 2;
	copy_plane(y, sy, img->planes[VPX_PLANE_Y], img->stride[VPX_PLANE_Y], w, h);
	copy_plane(u, su, img->planes[VPX_PLANE_U], img->stride[VPX_PLANE_U], cw, ch);
	copy_plane(v, sv, img->planes[VPX_PLANE_V], img->stride[VPX_PLANE_V], cw, ch);
}

static void vcc_dec_free(vcc_dec *d) {
	vpx_codec_destroy(&d->ctx);
	free(d->buf);
	free(d);
}

static const char *vcc_err_string(int rc) { return vpx_codec_err_to_string((vpx_codec_err_t)rc); }

#endif
