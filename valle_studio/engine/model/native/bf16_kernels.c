/* The AR step's bfloat16 kernels for x86 CPUs with AVX512_BF16: the one-row product y = W x (+ b)
 * (valle_bf16_matvec), the one-row LLaMA MLP built on it (valle_bf16_mlp) and one row's RMSNorm.
 *
 * Why they exist: an AR step reads every weight once, so its speed is the memory read rate. PyTorch's
 * bfloat16 mat-vec streams weights at ~80% of what a plain read achieves on a 2-core Sapphire Rapids;
 * this one reaches the read rate (benchmarks/bench_bf16.py, valle-studio-cli bench). Between the
 * products of a step, each small op PyTorch runs costs more than its arithmetic (caches are cold after
 * a weight stream); the MLP call keeps gate/up, GELU, the product and down in one thread team.
 * How: four rows at a time against one loaded slice of x (VDPBF16PS: bf16 pairs multiplied exactly
 * and summed in float32), and while a block of four rows is multiplied, the next block is prefetched
 * into L2 as one linear stream, which keeps enough reads in flight that the core never waits on memory.
 *
 * Numbers: products are exact, sums are float32 (the order differs from PyTorch's, so results agree
 * to float32 rounding), the bias is added in float32 and the result is rounded to bfloat16 with
 * round-to-nearest-even, as PyTorch rounds. Rows are split between OpenMP threads; compiled with
 * -fopenmp it shares the OpenMP runtime PyTorch has already loaded (same soname), so no second
 * pool of threads competes for the cores.
 *
 * Shapes: W [out, in] row-major contiguous bfloat16, x [in], b [out] or NULL, y [out]; any in >= 1.
 */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#define ROWS 4            /* rows per block: four weight streams share each slice of x */
#define STEP 64           /* elements per inner iteration: two 32-element halves per row */
/* Measured in the AR step on a 2-core Sapphire Rapids: 4096 bytes ahead into L2 beat 1024/2048/8192
 * and L1 (T0, ~10% slower) or L3 (T2, same) as targets. */
#define PREFETCH_AHEAD 4096
#define HINT _MM_HINT_T1

static inline float bf16_to_float(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint16_t float_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* NaN stays a quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                           /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static inline __m512bh load(const uint16_t* p) { return (__m512bh)_mm512_loadu_si512(p); }

static inline __m512bh load_tail(const uint16_t* p, __mmask32 mask) {
    return (__m512bh)_mm512_maskz_loadu_epi16(mask, p);
}

static inline void finish(uint16_t* y, const uint16_t* bias, int64_t row, __m512 acc) {
    float sum = _mm512_reduce_add_ps(acc);
    if (bias) sum += bf16_to_float(bias[row]);
    y[row] = float_to_bf16(sum);
}

/* Rows [r0, r1) of y. */
static void rows(const uint16_t* w, const uint16_t* x, const uint16_t* bias, uint16_t* y,
                 int64_t in, int64_t r0, int64_t r1) {
    const int64_t body = in - in % STEP;
    const int64_t tail = in - body;
    int64_t r = r0;
    for (; r + ROWS <= r1; r += ROWS) {
        const uint16_t* w0 = w + r * in;
        const uint16_t* w1 = w0 + in;
        const uint16_t* w2 = w1 + in;
        const uint16_t* w3 = w2 + in;
        const char* next = (const char*)(w0 + ROWS * in); /* the next block, read as one stream */
        const int prefetch = r + 2 * ROWS <= r1;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int64_t i = 0; i < body; i += STEP) {
            if (prefetch) {
                /* ROWS * STEP * 2 bytes of the next block per iteration: all of it by the block's end */
                const char* p = next + i * 2 * ROWS + PREFETCH_AHEAD;
                for (int line = 0; line < ROWS * STEP * 2; line += 64) _mm_prefetch(p + line, HINT);
            }
            const __m512bh x0 = load(x + i), x1 = load(x + i + 32);
            a0 = _mm512_dpbf16_ps(a0, load(w0 + i), x0);
            a1 = _mm512_dpbf16_ps(a1, load(w0 + i + 32), x1);
            b0 = _mm512_dpbf16_ps(b0, load(w1 + i), x0);
            b1 = _mm512_dpbf16_ps(b1, load(w1 + i + 32), x1);
            c0 = _mm512_dpbf16_ps(c0, load(w2 + i), x0);
            c1 = _mm512_dpbf16_ps(c1, load(w2 + i + 32), x1);
            d0 = _mm512_dpbf16_ps(d0, load(w3 + i), x0);
            d1 = _mm512_dpbf16_ps(d1, load(w3 + i + 32), x1);
        }
        for (int64_t i = body; i < in; i += 32) {
            const int64_t n = tail - (i - body) < 32 ? tail - (i - body) : 32;
            const __mmask32 mask = (__mmask32)(n == 32 ? 0xffffffffu : ((1u << n) - 1u));
            const __m512bh xt = load_tail(x + i, mask);
            a0 = _mm512_dpbf16_ps(a0, load_tail(w0 + i, mask), xt);
            b0 = _mm512_dpbf16_ps(b0, load_tail(w1 + i, mask), xt);
            c0 = _mm512_dpbf16_ps(c0, load_tail(w2 + i, mask), xt);
            d0 = _mm512_dpbf16_ps(d0, load_tail(w3 + i, mask), xt);
        }
        finish(y, bias, r, _mm512_add_ps(a0, a1));
        finish(y, bias, r + 1, _mm512_add_ps(b0, b1));
        finish(y, bias, r + 2, _mm512_add_ps(c0, c1));
        finish(y, bias, r + 3, _mm512_add_ps(d0, d1));
    }
    for (; r < r1; r++) { /* the last out % ROWS rows of this thread's share */
        const uint16_t* w0 = w + r * in;
        __m512 a0 = _mm512_setzero_ps();
        for (int64_t i = 0; i < in; i += 32) {
            const int64_t n = in - i < 32 ? in - i : 32;
            const __mmask32 mask = (__mmask32)(n == 32 ? 0xffffffffu : ((1u << n) - 1u));
            a0 = _mm512_dpbf16_ps(a0, load_tail(w0 + i, mask), load_tail(x + i, mask));
        }
        finish(y, bias, r, a0);
    }
}

/* Small products stay on one thread: waking the others costs more than they save. */
#define MIN_BYTES_PER_THREAD (256 * 1024)

static int threads_for(int64_t bytes, int threads) {
    int64_t most = bytes / MIN_BYTES_PER_THREAD;
    if (most < 1) most = 1;
    return threads > most ? (int)most : (threads < 1 ? 1 : threads);
}

/* Thread t of n takes whole ROWS-blocks: rows [*r0, *r1) of out. */
static void share(int64_t out, int64_t t, int64_t n, int64_t* r0, int64_t* r1) {
    const int64_t each = ((out + n - 1) / n + ROWS - 1) / ROWS * ROWS;
    *r0 = t * each < out ? t * each : out;
    *r1 = *r0 + each < out ? *r0 + each : out;
}

void valle_bf16_matvec(const uint16_t* w, const uint16_t* x, const uint16_t* bias, uint16_t* y,
                       int64_t out, int64_t in, int threads) {
    threads = threads_for(out * in * 2, threads);
    if (threads <= 1) {
        rows(w, x, bias, y, in, 0, out);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        int64_t r0, r1;
        share(out, omp_get_thread_num(), omp_get_num_threads(), &r0, &r1);
        if (r0 < r1) rows(w, x, bias, y, in, r0, r1);
    }
}

/* The LLaMA MLP of one row, down(gelu(gate x) * up x), in one parallel region: gate_up [2 ffn, dim]
 * ([gate; up] rows), down [dim, ffn], x [dim], hidden [2 ffn] scratch, y [dim]. Rounded to bfloat16
 * where PyTorch's unfused ops round (each product, the GELU, the elementwise product), so it differs
 * from them only by float32 summation order and erff against PyTorch's erf (both within 1 ulp). */
void valle_bf16_mlp(const uint16_t* gate_up, const uint16_t* down, const uint16_t* x, uint16_t* hidden,
                    uint16_t* y, int64_t ffn, int64_t dim, int threads) {
    threads = threads_for(3 * ffn * dim * 2, threads);
#pragma omp parallel num_threads(threads)
    {
        const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
        int64_t r0, r1;
        share(2 * ffn, t, n, &r0, &r1);
        if (r0 < r1) rows(gate_up, x, NULL, hidden, dim, r0, r1);
#pragma omp barrier
        share(ffn, t, n, &r0, &r1);
        for (int64_t i = r0; i < r1; i++) {
            const float g = bf16_to_float(hidden[i]);
            const float act = bf16_to_float(float_to_bf16((g * 0.5f) * (1.0f + erff(g * 0.70710678118654752f))));
            hidden[i] = float_to_bf16(act * bf16_to_float(hidden[ffn + i]));
        }
#pragma omp barrier
        share(dim, t, n, &r0, &r1);
        if (r0 < r1) rows(down, hidden, NULL, y, ffn, r0, r1);
    }
}

/* RMSNorm of one row as the engine computes it for bfloat16: float32 statistics, h = x * rsqrt(mean(x^2)
 * + eps) rounded to bfloat16, then weight * h rounded to bfloat16. One call instead of seven small ops,
 * each of which costs more than its arithmetic in an AR step. x, weight, y [n]. */
void valle_bf16_rms_norm(const uint16_t* x, const uint16_t* weight, uint16_t* y, int64_t n, float eps) {
    __m512 acc = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(x + i))), 16));
        acc = _mm512_fmadd_ps(v, v, acc);
    }
    float squares = _mm512_reduce_add_ps(acc);
    for (; i < n; i++) squares += bf16_to_float(x[i]) * bf16_to_float(x[i]);
    const float scale = 1.0f / sqrtf(squares / (float)n + eps);
    for (i = 0; i < n; i++) {
        const float h = bf16_to_float(float_to_bf16(bf16_to_float(x[i]) * scale));
        y[i] = float_to_bf16(bf16_to_float(weight[i]) * h);
    }
}

int valle_bf16_kernels_version(void) { return 4; }

