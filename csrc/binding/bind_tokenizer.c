/*
 * bind_tokenizer.c - Python binding of the tokenizer core.
 *
 * One heap type, fast_litellm._native.TokenizerCore (kept in module-state
 * slot FL_SLOT_TOKENIZER), wraps an immutable fl_encoder.  This file only
 * converts arguments, releases the GIL for long inputs and maps errors;
 * all policy (which specials are allowed, tiktoken's messages, surrogate
 * fix-up) lives in fast_litellm.tokenizer.
 *
 * Special tokens are passed as masks: a bytes object with one byte per
 * special token (in construction order), non-zero = in the set, or None.
 * encode/count report a disallowed special token by returning the negative
 * number -(index + 1) instead of a result, so the Python layer can raise
 * tiktoken's exact ValueError.
 *
 * A str holding lone surrogates cannot be UTF-8 encoded; the resulting
 * UnicodeEncodeError propagates, exactly like tiktoken's Rust core, and the
 * Python layer retries with tiktoken's fix-up.
 */
#include "binding/module_state.h"
#include "tokenizer/encoder.h"
#include "tokenizer/sha256.h"

#define GIL_RELEASE_BYTES 4096
#define BATCH_BYTES_PER_THREAD (64 * 1024)

typedef struct {
    PyObject_HEAD
    fl_encoder *enc;
    Py_ssize_t n_specials;
    Py_buffer blob; /* pinned prebuilt vocabulary (from_blob), when has_blob */
    int has_blob;
} TokenizerCore;

/* ---- helpers ------------------------------------------------------------ */

static int get_mask(PyObject *obj, Py_ssize_t n, const uint8_t **mask, const char *name)
{
    *mask = NULL;
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyBytes_Check(obj) || PyBytes_GET_SIZE(obj) != n) {
        PyErr_Format(PyExc_TypeError, "%s must be None or bytes of length %zd", name, n);
        return -1;
    }
    *mask = (const uint8_t *)PyBytes_AS_STRING(obj);
    return 0;
}

static const char *text_utf8(PyObject *text, Py_ssize_t *len)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "text must be str, not %.100s", fl_type_name(text));
        return NULL;
    }
    return PyUnicode_AsUTF8AndSize(text, len);
}

static PyObject *ids_to_list(const fl_ids *ids)
{
    PyObject *list = PyList_New((Py_ssize_t)ids->len);
    if (!list)
        return NULL;
    for (size_t i = 0; i < ids->len; i++) {
        PyObject *v = PyLong_FromUnsignedLong(ids->ids[i]);
        if (!v) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, v);
    }
    return list;
}

/* Encode or count (want_ids) one str; returns list / int / negative int. */
static PyObject *run_encode(TokenizerCore *self, PyObject *text, PyObject *allowed_obj,
                            PyObject *disallowed_obj, int want_ids)
{
    const uint8_t *allowed, *disallowed;
    if (get_mask(allowed_obj, self->n_specials, &allowed, "allowed") < 0 ||
        get_mask(disallowed_obj, self->n_specials, &disallowed, "disallowed") < 0)
        return NULL;
    Py_ssize_t len;
    const char *utf8 = text_utf8(text, &len);
    if (!utf8)
        return NULL;
    fl_ids ids = {0};
    fl_bpe_scratch scratch = {0};
    size_t count = 0, which = 0;
    int rc;
    if (len >= GIL_RELEASE_BYTES) {
        Py_BEGIN_ALLOW_THREADS
        rc = fl_encode(self->enc, (const uint8_t *)utf8, (size_t)len, allowed, disallowed,
                       want_ids ? &ids : NULL, &count, &which, &scratch);
        Py_END_ALLOW_THREADS
    } else {
        rc = fl_encode(self->enc, (const uint8_t *)utf8, (size_t)len, allowed, disallowed,
                       want_ids ? &ids : NULL, &count, &which, &scratch);
    }
    fl_bpe_scratch_free(&scratch);
    PyObject *result = NULL;
    if (rc == FL_ENC_DISALLOWED)
        result = PyLong_FromSsize_t(-(Py_ssize_t)which - 1);
    else if (rc != FL_ENC_OK)
        PyErr_NoMemory();
    else if (want_ids)
        result = ids_to_list(&ids);
    else
        result = PyLong_FromSize_t(count);
    fl_ids_free(&ids);
    return result;
}

/* ---- methods -------------------------------------------------------------- */

static PyObject *core_encode(TokenizerCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "encode(text, allowed=None, disallowed=None)");
        return NULL;
    }
    return run_encode(self, args[0], nargs > 1 ? args[1] : NULL, nargs > 2 ? args[2] : NULL, 1);
}

static PyObject *core_count(TokenizerCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "count(text, allowed=None, disallowed=None)");
        return NULL;
    }
    return run_encode(self, args[0], nargs > 1 ? args[1] : NULL, nargs > 2 ? args[2] : NULL, 0);
}

static PyObject *core_count_batch(TokenizerCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "count_batch(texts, allowed, disallowed, num_threads)");
        return NULL;
    }
    const uint8_t *allowed, *disallowed;
    if (get_mask(args[1], self->n_specials, &allowed, "allowed") < 0 ||
        get_mask(args[2], self->n_specials, &disallowed, "disallowed") < 0)
        return NULL;
    long threads = PyLong_AsLong(args[3]);
    if (threads == -1 && PyErr_Occurred())
        return NULL;
    if (threads < 1 || threads > 64) {
        PyErr_SetString(PyExc_ValueError, "num_threads must be between 1 and 64");
        return NULL;
    }
    PyObject *items = PySequence_Tuple(args[0]); /* owns the strs while unlocked */
    if (!items)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    const uint8_t **texts = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *texts);
    size_t *lens = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *lens);
    size_t *counts = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *counts);
    size_t *which = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *which);
    PyObject *result = NULL;
    if (!texts || !lens || !counts || !which) {
        PyErr_NoMemory();
        goto done;
    }
    size_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(items, i);
        if (!PyUnicode_Check(t)) {
            PyErr_Format(PyExc_TypeError, "texts[%zd] must be str, not %.100s", i,
                         fl_type_name(t));
            goto done;
        }
        Py_ssize_t len;
        const char *u = PyUnicode_AsUTF8AndSize(t, &len);
        if (!u)
            goto done;
        texts[i] = (const uint8_t *)u;
        lens[i] = (size_t)len;
        total += (size_t)len;
    }
    /* A thread costs tens of microseconds to start: give each at least
     * BATCH_BYTES_PER_THREAD of text. */
    if ((size_t)threads > 1 + total / BATCH_BYTES_PER_THREAD)
        threads = (long)(1 + total / BATCH_BYTES_PER_THREAD);
    int rc;
    if (total >= GIL_RELEASE_BYTES || threads > 1) {
        Py_BEGIN_ALLOW_THREADS
        rc = fl_count_batch(self->enc, texts, lens, (size_t)n, allowed, disallowed, counts, which,
                            (int)threads);
        Py_END_ALLOW_THREADS
    } else {
        rc = fl_count_batch(self->enc, texts, lens, (size_t)n, allowed, disallowed, counts, which, 1);
    }
    if (rc != FL_ENC_OK) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyList_New(n);
    if (!result)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = counts[i] == (size_t)-1 ? PyLong_FromSsize_t(-(Py_ssize_t)which[i] - 1)
                                              : PyLong_FromSize_t(counts[i]);
        if (!v) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, v);
    }
done:
    PyMem_Free(texts);
    PyMem_Free(lens);
    PyMem_Free(counts);
    PyMem_Free(which);
    Py_DECREF(items);
    return result;
}

static PyObject *core_encode_piece(TokenizerCore *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    fl_ids ids = {0};
    fl_bpe_scratch scratch = {0};
    int rc = fl_encode_piece(self->enc, view.buf, (size_t)view.len, &ids, &scratch);
    PyBuffer_Release(&view);
    fl_bpe_scratch_free(&scratch);
    PyObject *result = rc == FL_ENC_OK ? ids_to_list(&ids) : PyErr_NoMemory();
    fl_ids_free(&ids);
    return result;
}

/* tiktoken converts ids to u32 (anything with __index__) through a C long:
 * beyond a C long is pyo3's OverflowError for that, else out of u32 range
 * is its "out of range" one. */
static int id_from_object(PyObject *obj, uint32_t *id)
{
    PyObject *num = PyNumber_Index(obj); /* TypeError "... cannot be interpreted as an integer" */
    if (!num)
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(num, &overflow);
    Py_DECREF(num);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C long");
        return -1;
    }
    if (v < 0 || v > (long long)UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "out of range integral type conversion attempted");
        return -1;
    }
    *id = (uint32_t)v;
    return 0;
}

/* All ids are converted first (a TypeError or OverflowError anywhere
 * comes before a KeyError for an unknown id, as tiktoken extracts its
 * Vec<u32> before decoding), walking the sequence as iteration would:
 * an __index__ may change the list under us, so its size is read again
 * and each item is held while converted. */
static PyObject *core_decode_bytes(TokenizerCore *self, PyObject *arg)
{
    PyObject *seq = PySequence_Fast(arg, "tokens must be a sequence of int");
    if (!seq)
        return NULL;
    Py_ssize_t n = 0, cap = PySequence_Fast_GET_SIZE(seq);
    if (cap < 1)
        cap = 1;
    uint32_t *ids = PyMem_Malloc((size_t)cap * sizeof *ids);
    PyObject *out = NULL;
    if (!ids) {
        PyErr_NoMemory();
        goto done;
    }
    for (; n < PySequence_Fast_GET_SIZE(seq); n++) {
        if (n == cap) {
            uint32_t *more = PyMem_Realloc(ids, (size_t)(cap *= 2) * sizeof *ids);
            if (!more) {
                PyErr_NoMemory();
                goto done;
            }
            ids = more;
        }
        PyObject *item = PySequence_Fast_GET_ITEM(seq, n);
        Py_INCREF(item);
        int rc = id_from_object(item, &ids[n]);
        Py_DECREF(item);
        if (rc < 0)
            goto done;
    }
    size_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        size_t len;
        if (!fl_encoder_token_bytes(self->enc, ids[i], &len)) {
            PyObject *msg = PyUnicode_FromFormat("Invalid token for decoding: %u", (unsigned)ids[i]);
            if (msg) {
                PyErr_SetObject(PyExc_KeyError, msg);
                Py_DECREF(msg);
            }
            goto done;
        }
        total += len;
    }
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (!out)
        goto done;
    char *dst = PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *b = fl_encoder_token_bytes(self->enc, ids[i], &len);
        memcpy(dst, b, len);
        dst += len;
    }
done:
    PyMem_Free(ids);
    Py_DECREF(seq);
    return out;
}

static PyObject *core_token_bytes(TokenizerCore *self, PyObject *arg)
{
    uint32_t id;
    size_t len;
    if (id_from_object(arg, &id) < 0)
        return NULL;
    const uint8_t *b = fl_encoder_token_bytes(self->enc, id, &len);
    if (!b) {
        PyObject *msg = PyUnicode_FromFormat("%u", (unsigned)id);
        if (msg) {
            PyErr_SetObject(PyExc_KeyError, msg);
            Py_DECREF(msg);
        }
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)b, (Py_ssize_t)len);
}

static PyObject *core_rank(TokenizerCore *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    uint32_t r = fl_vocab_rank(fl_encoder_vocab(self->enc), view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    if (r == FL_NO_RANK)
        Py_RETURN_NONE;
    return PyLong_FromUnsignedLong(r);
}

static PyObject *core_get_n_tokens(TokenizerCore *self, void *closure)
{
    return PyLong_FromSize_t(fl_vocab_count(fl_encoder_vocab(self->enc)));
}

static PyObject *core_get_max_rank(TokenizerCore *self, void *closure)
{
    return PyLong_FromUnsignedLong(fl_vocab_max_rank(fl_encoder_vocab(self->enc)));
}

static PyObject *core_get_cache_enabled(TokenizerCore *self, void *closure)
{
    return PyBool_FromLong(fl_encoder_cache_enabled(self->enc));
}

/* set_cache(on, tokens_too=False): use the shared piece cache or not. */
static PyObject *core_set_cache(TokenizerCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "set_cache(on, tokens_too=False)");
        return NULL;
    }
    int on = PyObject_IsTrue(args[0]);
    int tokens_too = nargs > 1 ? PyObject_IsTrue(args[1]) : 0;
    if (on < 0 || tokens_too < 0)
        return NULL;
    fl_encoder_set_cache(self->enc, on, tokens_too);
    Py_RETURN_NONE;
}

static PyObject *core_clear_cache(TokenizerCore *self, PyObject *Py_UNUSED(ignored))
{
    Py_BEGIN_ALLOW_THREADS
    fl_encoder_clear_cache(self->enc);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* ---- construction ----------------------------------------------------------- */

/* Special tokens argument -> arrays (PyMem); 0 or -1 with an exception.
 * The byte pointers borrow from items (a tuple the caller keeps alive). */
typedef struct {
    PyObject *items;
    Py_ssize_t n;
    const uint8_t **bytes;
    size_t *lens;
    uint32_t *ranks;
} special_args;

static void specials_free(special_args *sa)
{
    PyMem_Free(sa->bytes);
    PyMem_Free(sa->lens);
    PyMem_Free(sa->ranks);
    Py_XDECREF(sa->items);
}

static int specials_parse(PyObject *obj, special_args *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->items = PySequence_Tuple(obj);
    if (!sa->items)
        return -1;
    Py_ssize_t n = sa->n = PyTuple_GET_SIZE(sa->items);
    sa->bytes = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *sa->bytes);
    sa->lens = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *sa->lens);
    sa->ranks = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *sa->ranks);
    if (!sa->bytes || !sa->lens || !sa->ranks) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(sa->items, i);
        PyObject *b;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2 ||
            !PyBytes_Check(b = PyTuple_GET_ITEM(item, 0))) {
            PyErr_SetString(PyExc_TypeError, "special_tokens must be (bytes, int) pairs");
            return -1;
        }
        if (id_from_object(PyTuple_GET_ITEM(item, 1), &sa->ranks[i]) < 0)
            return -1;
        sa->bytes[i] = (const uint8_t *)PyBytes_AS_STRING(b);
        sa->lens[i] = (size_t)PyBytes_GET_SIZE(b);
    }
    return 0;
}

static PyObject *core_wrap(PyTypeObject *type, fl_encoder *enc, Py_ssize_t n_specials)
{
    TokenizerCore *self = (TokenizerCore *)type->tp_alloc(type, 0);
    if (!self) {
        fl_encoder_free(enc);
        return NULL;
    }
    self->enc = enc;
    self->n_specials = n_specials;
    return (PyObject *)self;
}

/* TokenizerCore(vocab_file_bytes, pattern_id, [(special_bytes, id), ...]) */
static PyObject *core_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Py_buffer data;
    int pattern;
    PyObject *specials_obj;
    static char *kwlist[] = {"data", "pattern", "special_tokens", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*iO:TokenizerCore", kwlist, &data, &pattern,
                                     &specials_obj))
        return NULL;
    special_args sa;
    PyObject *result = NULL;
    if (specials_parse(specials_obj, &sa) < 0)
        goto done;
    if (pattern < 0 || pattern >= FL_PAT_COUNT) {
        PyErr_Format(PyExc_ValueError, "pattern must be 0..%d", FL_PAT_COUNT - 1);
        goto done;
    }
    char err[256] = "";
    fl_encoder *enc = NULL;
    Py_BEGIN_ALLOW_THREADS
    fl_vocab *v = fl_vocab_parse_tiktoken(data.buf, (size_t)data.len, err, sizeof err);
    if (v)
        enc = fl_encoder_new(v, (fl_pattern_id)pattern, sa.bytes, sa.lens, sa.ranks, (size_t)sa.n,
                             err, sizeof err);
    Py_END_ALLOW_THREADS
    if (!enc) {
        PyErr_Format(PyExc_ValueError, "invalid vocabulary: %s", err);
        goto done;
    }
    result = core_wrap(type, enc, sa.n);
done:
    specials_free(&sa);
    PyBuffer_Release(&data);
    return result;
}

/* TokenizerCore.from_blob(blob, source_sha256, pattern, special_tokens):
 * a core over a prebuilt vocabulary (see fl_vocab_from_blob); blob (e.g. an
 * mmap) stays pinned for the core's lifetime.  ValueError if it does not
 * check out, so the caller can rebuild it. */
static PyObject *core_from_blob(PyObject *cls, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "from_blob(blob, source_sha256, pattern, special_tokens)");
        return NULL;
    }
    Py_buffer blob, sha;
    if (PyObject_GetBuffer(args[0], &blob, PyBUF_SIMPLE) < 0)
        return NULL;
    if (PyObject_GetBuffer(args[1], &sha, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&blob);
        return NULL;
    }
    long pattern = PyLong_AsLong(args[2]);
    special_args sa;
    memset(&sa, 0, sizeof sa);
    PyObject *result = NULL;
    if (pattern == -1 && PyErr_Occurred())
        goto done;
    if (sha.len != 32) {
        PyErr_SetString(PyExc_ValueError, "source_sha256 must be 32 bytes");
        goto done;
    }
    if (pattern < 0 || pattern >= FL_PAT_COUNT) {
        PyErr_Format(PyExc_ValueError, "pattern must be 0..%d", FL_PAT_COUNT - 1);
        goto done;
    }
    if (specials_parse(args[3], &sa) < 0)
        goto done;
    char err[256] = "";
    fl_encoder *enc = NULL;
    Py_BEGIN_ALLOW_THREADS
    fl_vocab *v = fl_vocab_from_blob(blob.buf, (size_t)blob.len, sha.buf, err, sizeof err);
    if (v)
        enc = fl_encoder_new(v, (fl_pattern_id)pattern, sa.bytes, sa.lens, sa.ranks, (size_t)sa.n,
                             err, sizeof err);
    Py_END_ALLOW_THREADS
    if (!enc) {
        PyErr_Format(PyExc_ValueError, "invalid prebuilt vocabulary: %s", err);
        goto done;
    }
    result = core_wrap((PyTypeObject *)cls, enc, sa.n);
    if (result) {
        ((TokenizerCore *)result)->blob = blob; /* ownership of the view moves */
        ((TokenizerCore *)result)->has_blob = 1;
        blob.obj = NULL;
    }
done:
    specials_free(&sa);
    PyBuffer_Release(&sha);
    if (blob.obj)
        PyBuffer_Release(&blob);
    return result;
}

static PyObject *core_serialize(TokenizerCore *self, PyObject *arg)
{
    Py_buffer sha;
    if (PyObject_GetBuffer(arg, &sha, PyBUF_SIMPLE) < 0)
        return NULL;
    if (sha.len != 32) {
        PyBuffer_Release(&sha);
        PyErr_SetString(PyExc_ValueError, "source_sha256 must be 32 bytes");
        return NULL;
    }
    uint8_t source_sha[32];
    memcpy(source_sha, sha.buf, 32);
    PyBuffer_Release(&sha);
    size_t len = 0;
    uint8_t *blob;
    /* The vocabulary is immutable and self is kept alive by the caller:
     * serializing (~10 ms for o200k) lets other threads run (the prebuilt
     * cache is written from a background thread). */
    Py_BEGIN_ALLOW_THREADS
    blob = fl_vocab_serialize(fl_encoder_vocab(self->enc), source_sha, &len);
    Py_END_ALLOW_THREADS
    if (!blob)
        return PyErr_NoMemory();
    PyObject *out = PyBytes_FromStringAndSize((const char *)blob, (Py_ssize_t)len);
    free(blob);
    return out;
}

static void core_dealloc(TokenizerCore *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    fl_encoder_free(self->enc); /* before the blob it may point into */
    if (self->has_blob)
        PyBuffer_Release(&self->blob);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* pretok_split(pattern_id, text) -> list of str: the pre-tokenizer alone,
   walked by 64-byte windows as the encoder walks ASCII text
   (fl_pretok_split), so the tests that check it check that path. */
static PyObject *tok_pretok_split(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "pretok_split(pattern, text)");
        return NULL;
    }
    long pat = PyLong_AsLong(args[0]);
    if (pat == -1 && PyErr_Occurred())
        return NULL;
    if (pat < 0 || pat >= FL_PAT_COUNT) {
        PyErr_Format(PyExc_ValueError, "pattern must be 0..%d", FL_PAT_COUNT - 1);
        return NULL;
    }
    Py_ssize_t len;
    const char *u = text_utf8(args[1], &len);
    if (!u)
        return NULL;
    PyObject *list = PyList_New(0);
    size_t pos = 0, next = 0, ends[256];
    while (list && pos < (size_t)len) {
        size_t got = fl_pretok_split((fl_pattern_id)pat, (const uint8_t *)u, (size_t)len, &next, ends,
                                     sizeof ends / sizeof ends[0]);
        if (got == 0) /* cannot happen: pos < len */
            ends[got++] = next = (size_t)len;
        for (size_t k = 0; list && k < got; k++) {
            size_t end = ends[k] > pos && ends[k] <= (size_t)len ? ends[k] : (size_t)len;
            PyObject *s = PyUnicode_DecodeUTF8(u + pos, (Py_ssize_t)(end - pos), "surrogateescape");
            if (!s || PyList_Append(list, s) < 0)
                Py_CLEAR(list);
            Py_XDECREF(s);
            pos = end;
        }
    }
    return list;
}

static PyMethodDef core_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))core_encode, METH_FASTCALL,
     "encode(text, allowed=None, disallowed=None) -> list[int] | negative int"},
    {"count", (PyCFunction)(void (*)(void))core_count, METH_FASTCALL,
     "count(text, allowed=None, disallowed=None) -> int (negative: disallowed special)"},
    {"count_batch", (PyCFunction)(void (*)(void))core_count_batch, METH_FASTCALL,
     "count_batch(texts, allowed, disallowed, num_threads) -> list[int]"},
    {"encode_piece", (PyCFunction)core_encode_piece, METH_O,
     "encode_piece(bytes) -> list[int] (no pre-tokenization)"},
    {"decode_bytes", (PyCFunction)core_decode_bytes, METH_O, "decode_bytes(ids) -> bytes"},
    {"set_cache", (PyCFunction)(void (*)(void))core_set_cache, METH_FASTCALL,
     "set_cache(on, tokens_too=False): use the shared piece cache (on by default)"},
    {"clear_cache", (PyCFunction)core_clear_cache, METH_NOARGS, "clear_cache(): empty the shared piece cache"},
    {"token_bytes", (PyCFunction)core_token_bytes, METH_O, "token_bytes(id) -> bytes"},
    {"rank", (PyCFunction)core_rank, METH_O, "rank(bytes) -> int | None (ordinary tokens)"},
    {"serialize", (PyCFunction)core_serialize, METH_O,
     "serialize(source_sha256) -> bytes: the prebuilt vocabulary for from_blob"},
    {"from_blob", (PyCFunction)(void (*)(void))core_from_blob, METH_FASTCALL | METH_CLASS,
     "from_blob(blob, source_sha256, pattern, special_tokens) -> TokenizerCore"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef core_getset[] = {
    {"n_tokens", (getter)core_get_n_tokens, NULL, "number of ordinary tokens", NULL},
    {"max_rank", (getter)core_get_max_rank, NULL, "largest ordinary token id", NULL},
    {"cache_enabled", (getter)core_get_cache_enabled, NULL, "whether the shared piece cache is used", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot core_slots[] = {
    {Py_tp_new, core_new},
    {Py_tp_dealloc, core_dealloc},
    {Py_tp_methods, core_methods},
    {Py_tp_getset, core_getset},
    {Py_tp_doc, "An immutable loaded BPE encoding (vocabulary, pattern, special tokens)."},
    {0, NULL},
};

static PyType_Spec core_spec = {
    .name = "fast_litellm._native.TokenizerCore",
    .basicsize = sizeof(TokenizerCore),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = core_slots,
};

/* vocab_sha256(data) -> 32-byte digest, or None when this CPU has no SHA
 * instructions (the caller uses hashlib then): checks a vocabulary file
 * without importing hashlib/OpenSSL at start-up. */
static PyObject *tok_vocab_sha256(PyObject *module, PyObject *arg)
{
    Py_buffer data;
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0)
        return NULL;
    uint8_t digest[32];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = fl_sha256(data.buf, (size_t)data.len, digest);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    if (rc < 0)
        Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)digest, 32);
}

static PyMethodDef module_functions[] = {
    {"vocab_sha256", (PyCFunction)tok_vocab_sha256, METH_O,
     "vocab_sha256(data) -> bytes | None: SHA-256 with the CPU's SHA instructions (None without)"},
    {"pretok_split", (PyCFunction)(void (*)(void))tok_pretok_split, METH_FASTCALL,
     "pretok_split(pattern_id, text) -> list[str]: tiktoken's regex split, in C"},
    {NULL, NULL, 0, NULL},
};

int fl_bind_tokenizer(PyObject *module)
{
    if (fl_add_type(module, &core_spec, "TokenizerCore", FL_SLOT_TOKENIZER) < 0)
        return -1;
    return PyModule_AddFunctions(module, module_functions);
}
