/*
 * bind_token_counter.c - native walk of LiteLLM token_counter inputs.
 *
 * How it works: the fast token_counter (fast_litellm/token_counter/_python.py)
 * spends its Python time walking message dicts and formatting tool
 * definitions.  Both walks live here, over the Python objects themselves
 * (there is no Python-free core to separate: the input *is* Python objects;
 * tokenization is the tokenizer component's C core, reached through the
 * `count` callable).
 *
 *   _tc_walk_messages(messages, count, per_message, per_name[, raw, chunk])
 *       -> (tokens, has_system_message) | None
 *
 * `count` is LiteLLM's counting function (chunking, extrapolation); `raw`,
 * when given, is the tokenizer's C count(text, None, None), called directly
 * for texts of at most `chunk` characters (where LiteLLM's count is exactly
 * one ordinary count) -- one Python frame less per string.
 *   _tc_format_tools(tools) -> str | None
 *   _tc_plan_current(litellm_dict, tables, sizes, entries) -> bool | None
 *       the whole per-call plan check (tables' identity and size, entries)
 *   _tc_count_chunks(text, raw, raw_batch, chunk) -> int | None
 *       LiteLLM's chunked exact count in one C call (the tools text).
 *
 * The tools text is built as UTF-8 in one growing buffer and decoded once;
 * a string that cannot be UTF-8 (a lone surrogate) is declined.
 *
 * Each handles only plain shapes: exact dict/list/tuple containers, exact
 * str keys, and -- wherever LiteLLM interpolates or compares a value -- only
 * None/bool/int/float/str, so no user code runs during a walk and every
 * result equals LiteLLM's.  For anything else they return None and the
 * Python twin (which hands unusual inputs to LiteLLM) takes the whole call.
 * Per-message semantics are documented in _python.py; this file mirrors it.
 *
 * State: the interned key strings live in module state slot
 * FL_SLOT_TOKEN_COUNTER (a tuple), never in C globals.
 */
#include "binding/module_state.h"

enum {
    K_ROLE, K_CONTENT, K_NAME, K_TOOL_CALLS, K_FUNCTION_CALL, K_FUNCTION,
    K_ARGUMENTS, K_TYPE, K_TEXT, K_THINKING, K_REDACTED_THINKING,
    K_COMPACTION, K_SYSTEM, K_PROVIDER_SPECIFIC_FIELDS, K_SEARCH_RESULTS,
    K_DESCRIPTION, K_PARAMETERS, K_PROPERTIES, K_REQUIRED, K_ENUM, K_ITEMS,
    K_STRING, K_ARRAY, K_OBJECT, K_INTEGER, K_NUMBER, K_BOOLEAN, K_NULL,
    K_EMPTY, K_LITELLM_PROVIDER, K_MODE, K_SUPPORTS_PDF_INPUT,
    K_MODEL_COST, K_OPEN_AI_CHAT_COMPLETION_MODELS, K_AZURE_LLMS, K_ANTHROPIC_MODELS, K_COHERE_MODELS,
    K_COUNT
};

static const char *const KEY_TEXT[K_COUNT] = {
    "role", "content", "name", "tool_calls", "function_call", "function",
    "arguments", "type", "text", "thinking", "redacted_thinking",
    "compaction", "system", "provider_specific_fields", "search_results",
    "description", "parameters", "properties", "required", "enum", "items",
    "string", "array", "object", "integer", "number", "boolean", "null",
    "", "litellm_provider", "mode", "supports_pdf_input",
    "model_cost", "open_ai_chat_completion_models", "azure_llms", "anthropic_models", "cohere_models",
};

/* Maximum schema nesting handled natively; deeper goes to Python. */
#define FL_TC_MAX_DEPTH 64

#define COVERED 1
#define NOT_COVERED 0
#define FAILED (-1)

static PyObject *const *
keys_of(PyObject *module)
{
    PyObject *t = fl_get_state(module)->slots[FL_SLOT_TOKEN_COUNTER];
    return &PyTuple_GET_ITEM(t, 0);
}

/* Equality of two exact str objects (no user code). */
static int
str_eq(PyObject *a, PyObject *b)
{
    return a == b || (PyUnicode_GET_LENGTH(a) == PyUnicode_GET_LENGTH(b) && PyUnicode_Compare(a, b) == 0);
}

static int
is_plain_scalar(PyObject *o)
{
    return o == Py_None || PyUnicode_CheckExact(o) || PyLong_CheckExact(o) || PyBool_Check(o) ||
           PyFloat_CheckExact(o);
}

/* A value whose comparisons with str and truthiness run no user code. */
static int
is_plain(PyObject *o)
{
    return is_plain_scalar(o) || PyList_CheckExact(o) || PyDict_CheckExact(o) || PyTuple_CheckExact(o);
}

/* Borrowed d[key] for an exact dict, NULL when missing; Py_NotImplemented
 * (which no caller takes as a str, dict or None, so it declines) when d has
 * a key other than an exact str.  Read by one pass over the items, so no
 * user code runs: a hash lookup would call such a key's __eq__, which could
 * free the dicts and lists the walks hold borrowed. */
static PyObject *
get(PyObject *d, PyObject *key)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v, *found = NULL;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (k == key)
            found = v;
        else if (!PyUnicode_CheckExact(k))
            return Py_NotImplemented;
        else if (found == NULL && str_eq(k, key))
            found = v;
    }
    return found;
}

/* ---- message walk --------------------------------------------------------- */

typedef struct {
    PyObject *const *k;
    PyObject *count;     /* LiteLLM's count function (chunking, extrapolation) */
    PyObject *raw;       /* the tokenizer's C count(text, None, None), or NULL */
    Py_ssize_t chunk;    /* texts up to this many characters go to raw */
    long long total;
    long per_name;
    int has_system;
} walk_t;

/* raw(text, None, None); NULL with no error set when the text needs the
 * Python count instead (lone surrogates: UnicodeEncodeError). */
static PyObject *
raw_count(walk_t *w, PyObject *text)
{
    PyObject *args[3] = {text, Py_None, Py_None};
    PyObject *r = PyObject_Vectorcall(w->raw, args, 3, NULL);
    if (r == NULL && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
        PyErr_Clear();
    return r;
}

static int
add_count(walk_t *w, PyObject *text)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0)
        return COVERED;
    PyObject *r = NULL;
    if (w->raw != NULL && n <= w->chunk) {
        r = raw_count(w, text);
        if (r == NULL && PyErr_Occurred())
            return FAILED;
    }
    if (r == NULL)
        r = PyObject_CallOneArg(w->count, text);
    if (r == NULL)
        return FAILED;
    long long tokens = PyLong_AsLongLong(r);
    Py_DECREF(r);
    if (tokens == -1 && PyErr_Occurred())
        return FAILED;
    w->total += tokens;
    return COVERED;
}

static int
walk_tool_calls(walk_t *w, PyObject *calls)
{
    if (!PyList_CheckExact(calls))
        return NOT_COVERED;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(calls); i++) {
        PyObject *call = PyList_GET_ITEM(calls, i);
        if (!PyDict_CheckExact(call))
            return NOT_COVERED;
        PyObject *function = get(call, w->k[K_FUNCTION]);
        if (function == NULL || !PyDict_CheckExact(function))
            return PyErr_Occurred() ? FAILED : NOT_COVERED;
        PyObject *arguments = get(function, w->k[K_ARGUMENTS]);
        if (arguments == NULL) {
            if (PyErr_Occurred())
                return FAILED;
            continue; /* .get("arguments", "") counts "" */
        }
        if (!PyUnicode_CheckExact(arguments))
            return NOT_COVERED;
        Py_INCREF(arguments);
        int r = add_count(w, arguments);
        Py_DECREF(arguments);
        if (r != COVERED)
            return r;
    }
    return COVERED;
}

/* The block's text field for a text-like type, or -1 when not text-like. */
static int
text_field_of(PyObject *const *k, PyObject *type)
{
    if (str_eq(type, k[K_TEXT]))
        return K_TEXT;
    if (str_eq(type, k[K_THINKING]) || str_eq(type, k[K_REDACTED_THINKING]))
        return K_THINKING;
    if (str_eq(type, k[K_COMPACTION]))
        return K_CONTENT;
    return -1;
}

static int
walk_content(walk_t *w, PyObject *blocks)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(blocks); i++) {
        PyObject *block = PyList_GET_ITEM(blocks, i);
        PyObject *text;
        if (PyUnicode_CheckExact(block)) {
            text = block;
        } else if (PyDict_CheckExact(block)) {
            PyObject *type = get(block, w->k[K_TYPE]);
            if (type == NULL || !PyUnicode_CheckExact(type))
                return PyErr_Occurred() ? FAILED : NOT_COVERED;
            int field = text_field_of(w->k, type);
            if (field < 0)
                return NOT_COVERED; /* images, documents, tool blocks: Python */
            text = get(block, w->k[field]);
            if (text == NULL || text == Py_None) {
                if (PyErr_Occurred())
                    return FAILED;
                continue;
            }
            if (!PyUnicode_CheckExact(text))
                return NOT_COVERED;
        } else {
            return NOT_COVERED;
        }
        Py_INCREF(text);
        int r = add_count(w, text);
        Py_DECREF(text);
        if (r != COVERED)
            return r;
    }
    return COVERED;
}

static int
walk_value(walk_t *w, PyObject *key, PyObject *value)
{
    PyObject *const *k = w->k;
    if (value == Py_None)
        return COVERED;
    if (PyUnicode_CheckExact(value)) {
        if (str_eq(key, k[K_TOOL_CALLS]) || str_eq(key, k[K_FUNCTION_CALL]))
            return NOT_COVERED; /* LiteLLM raises */
        int r = add_count(w, value);
        if (r != COVERED)
            return r;
        if (str_eq(key, k[K_NAME]))
            w->total += w->per_name;
        else if (str_eq(key, k[K_ROLE]) && str_eq(value, k[K_SYSTEM]))
            w->has_system = 1;
        return COVERED;
    }
    if (str_eq(key, k[K_TOOL_CALLS]))
        return walk_tool_calls(w, value);
    if (str_eq(key, k[K_FUNCTION_CALL])) {
        if (!PyDict_CheckExact(value))
            return NOT_COVERED;
        PyObject *arguments = get(value, k[K_ARGUMENTS]);
        if (arguments == NULL)
            return PyErr_Occurred() ? FAILED : COVERED;
        if (!PyUnicode_CheckExact(arguments))
            return NOT_COVERED;
        return add_count(w, arguments);
    }
    if (str_eq(key, k[K_ROLE]) || PyUnicode_Check(value))
        return NOT_COVERED; /* a non-str role, or a str subclass */
    if (str_eq(key, k[K_CONTENT])) {
        if (PyList_CheckExact(value))
            return walk_content(w, value);
        return PyList_Check(value) ? NOT_COVERED : COVERED;
    }
    if (str_eq(key, k[K_PROVIDER_SPECIFIC_FIELDS]))
        return NOT_COVERED;
    if (str_eq(key, k[K_SEARCH_RESULTS]) && PyList_Check(value))
        return NOT_COVERED;
    return COVERED; /* other keys are skipped, as LiteLLM skips them */
}

static int
walk_message(walk_t *w, PyObject *message, long per_message)
{
    if (!PyDict_CheckExact(message))
        return NOT_COVERED;
    w->total += per_message;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(message, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key))
            return NOT_COVERED;
        Py_INCREF(key);
        Py_INCREF(value);
        int r = walk_value(w, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (r != COVERED)
            return r;
    }
    return COVERED;
}

static PyObject *
tc_walk_messages(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 && nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "_tc_walk_messages(messages, count, per_message, per_name[, raw_count, chunk])");
        return NULL;
    }
    PyObject *raw = nargs == 6 && args[4] != Py_None ? args[4] : NULL;
    Py_ssize_t chunk = 0;
    if (raw != NULL) {
        chunk = PyLong_AsSsize_t(args[5]);
        if (chunk == -1 && PyErr_Occurred())
            return NULL;
    }
    PyObject *messages = args[0];
    long per_message = PyLong_AsLong(args[2]);
    long per_name = PyLong_AsLong(args[3]);
    if (PyErr_Occurred())
        return NULL;
    if (!PyList_CheckExact(messages) && !PyTuple_CheckExact(messages))
        Py_RETURN_NONE;
    walk_t w = {keys_of(module), args[1], raw, chunk, 0, per_name, 0};
    Py_INCREF(messages);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(messages);
    int r = COVERED;
    for (Py_ssize_t i = 0; i < n && r == COVERED; i++) {
        PyObject *message = PySequence_Fast_GET_ITEM(messages, i);
        Py_INCREF(message);
        r = walk_message(&w, message, per_message);
        Py_DECREF(message);
        if (PyList_CheckExact(messages) && PyList_GET_SIZE(messages) != n)
            r = NOT_COVERED; /* mutated under us: let Python decide */
    }
    Py_DECREF(messages);
    if (r == FAILED)
        return NULL;
    if (r == NOT_COVERED)
        Py_RETURN_NONE;
    return Py_BuildValue("(LO)", w.total, w.has_system ? Py_True : Py_False);
}

/* ---- tools text ----------------------------------------------------------- */

typedef struct {
    PyObject *const *k;
    char *data; /* UTF-8 of the text so far (PyMem) */
    size_t len, cap;
} fmt_t;

static int
emit_bytes(fmt_t *f, const char *s, size_t n)
{
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 1024;
        while (cap < f->len + n)
            cap *= 2;
        char *grown = PyMem_Realloc(f->data, cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return FAILED;
        }
        f->data = grown;
        f->cap = cap;
    }
    memcpy(f->data + f->len, s, n);
    f->len += n;
    return COVERED;
}

static int
emit_c(fmt_t *f, const char *s)
{
    return emit_bytes(f, s, strlen(s));
}

/* Appends str s; a str that is not valid UTF-8 (lone surrogates) is declined. */
static int
emit(fmt_t *f, PyObject *s)
{
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(s, &n);
    if (utf8 == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
            return FAILED;
        PyErr_Clear();
        return NOT_COVERED;
    }
    return emit_bytes(f, utf8, (size_t)n);
}

/* f"{value}" for a plain scalar. */
static int
emit_format(fmt_t *f, PyObject *value)
{
    if (!is_plain_scalar(value))
        return NOT_COVERED;
    if (PyUnicode_CheckExact(value))
        return emit(f, value);
    PyObject *s = PyObject_Format(value, f->k[K_EMPTY]);
    if (s == NULL)
        return FAILED;
    int r = emit(f, s);
    Py_DECREF(s);
    return r;
}

static int
emit_pad(fmt_t *f, int indent)
{
    if (indent <= 0)
        return COVERED;
    char buf[FL_TC_MAX_DEPTH * 2 + 8];
    if (indent > (int)sizeof(buf) - 1)
        return NOT_COVERED;
    memset(buf, ' ', (size_t)indent);
    buf[indent] = '\0';
    return emit_c(f, buf);
}

/* isinstance(o, Mapping): 1 yes (exact dict), 0 no, NOT_COVERED-as(-2) unknown */
#define MAPPING_UNKNOWN (-2)
static int
mapping_kind(PyObject *o)
{
    if (PyDict_CheckExact(o))
        return 1;
    if (is_plain_scalar(o) || PyList_CheckExact(o) || PyTuple_CheckExact(o))
        return 0;
    return MAPPING_UNKNOWN;
}

#define TRY(expr)                                                                                          \
    do {                                                                                                   \
        int r_ = (expr);                                                                                   \
        if (r_ != COVERED)                                                                                 \
            return r_;                                                                                     \
    } while (0)

/*
 * Reading a schema dict.  LiteLLM reads each of these dicts with several
 * .get(key) calls; here each dict is read in one pass over its items
 * (PyDict_Next), matching keys against the interned key strings by
 * identity, then by value.  When every key is an exact str that finds
 * exactly the values .get would (a str key equals ours iff its characters
 * do, and no user code runs); a dict with any other key is declined, so
 * the Python twin does LiteLLM's lookups in LiteLLM's order.
 */
enum { F_TYPE, F_ENUM, F_ITEMS, F_PROPERTIES, F_REQUIRED, F_DESCRIPTION, F_COUNT };
static const int SCHEMA_KEYS[F_COUNT] = {K_TYPE, K_ENUM, K_ITEMS, K_PROPERTIES, K_REQUIRED, K_DESCRIPTION};
enum { FN_NAME, FN_DESCRIPTION, FN_PARAMETERS, FN_COUNT };
static const int FUNCTION_KEYS[FN_COUNT] = {K_NAME, K_DESCRIPTION, K_PARAMETERS};

/* out[j] = borrowed d[key j] or NULL, for the n keys k[want[j]]. */
static int
read_fields(PyObject *const *k, PyObject *d, const int *want, int n, PyObject **out)
{
    for (int j = 0; j < n; j++)
        out[j] = NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(d, &pos, &key, &value)) {
        int j = 0;
        while (j < n && key != k[want[j]])
            j++;
        if (j == n) {
            if (!PyUnicode_CheckExact(key))
                return NOT_COVERED;
            j = 0;
            while (j < n && !str_eq(key, k[want[j]]))
                j++;
            if (j == n)
                continue;
        }
        out[j] = value;
    }
    return COVERED;
}

static int format_object_parameters(fmt_t *f, PyObject *properties, PyObject *required, int indent, int depth);

/* " | ".join([f'"{item}"' for item in enum]) */
static int
format_enum(fmt_t *f, PyObject *items)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        if (i > 0)
            TRY(emit_c(f, " | "));
        TRY(emit_c(f, "\""));
        TRY(emit_format(f, PyList_GET_ITEM(items, i)));
        TRY(emit_c(f, "\""));
    }
    return COVERED;
}

static int
rich_eq(PyObject *a, PyObject *b)
{
    return PyObject_RichCompareBool(a, b, Py_EQ);
}

/* _format_type(props) for a Mapping props whose fields were read. */
static int
format_type_fields(fmt_t *f, PyObject *const *fields, int indent, int depth)
{
    PyObject *const *k = f->k;
    if (depth > FL_TC_MAX_DEPTH)
        return NOT_COVERED;
    PyObject *type = fields[F_TYPE] == NULL ? Py_None : fields[F_TYPE];
    PyObject *enumv = fields[F_ENUM];
    if (!is_plain(type) || (enumv != NULL && PyList_Check(enumv) && !PyList_CheckExact(enumv)))
        return NOT_COVERED;
    int is_list_enum = enumv != NULL && PyList_CheckExact(enumv);
    int eq;
    if ((eq = rich_eq(type, k[K_STRING])) != 0) {
        if (eq < 0)
            return FAILED;
        return is_list_enum ? format_enum(f, enumv) : emit_c(f, "string");
    }
    if ((eq = rich_eq(type, k[K_ARRAY])) != 0) {
        if (eq < 0)
            return FAILED;
        PyObject *items = fields[F_ITEMS] == NULL ? Py_None : fields[F_ITEMS];
        int mk = mapping_kind(items);
        if (mk == MAPPING_UNKNOWN)
            return NOT_COVERED;
        if (mk == 0) {
            TRY(emit_c(f, "any"));
        } else {
            PyObject *item_fields[F_COUNT];
            TRY(read_fields(k, items, SCHEMA_KEYS, F_COUNT, item_fields));
            TRY(format_type_fields(f, item_fields, indent, depth + 1));
        }
        return emit_c(f, "[]");
    }
    if ((eq = rich_eq(type, k[K_OBJECT])) != 0) {
        if (eq < 0)
            return FAILED;
        TRY(emit_c(f, "{\n"));
        TRY(format_object_parameters(f, fields[F_PROPERTIES], fields[F_REQUIRED], indent + 2, depth + 1));
        return emit_c(f, "\n}");
    }
    int integer = rich_eq(type, k[K_INTEGER]);
    int number = integer ? integer : rich_eq(type, k[K_NUMBER]);
    if (integer < 0 || number < 0)
        return FAILED;
    if (number)
        return is_list_enum ? format_enum(f, enumv) : emit_c(f, "number");
    if ((eq = rich_eq(type, k[K_BOOLEAN])) != 0)
        return eq < 0 ? FAILED : emit_c(f, "boolean");
    if ((eq = rich_eq(type, k[K_NULL])) != 0)
        return eq < 0 ? FAILED : emit_c(f, "null");
    return emit_c(f, "any");
}

/* Emits "\n".join(pad + line for each property line) for a parameters
 * Mapping's "properties" and "required" values (NULL: missing); nothing
 * if there are no properties. */
static int
format_object_parameters(fmt_t *f, PyObject *properties, PyObject *required, int indent, int depth)
{
    if (properties == NULL)
        return COVERED;
    int mk = mapping_kind(properties);
    if (mk == MAPPING_UNKNOWN)
        return NOT_COVERED;
    if (mk == 0 || PyDict_GET_SIZE(properties) == 0)
        return COVERED;
    Py_ssize_t n_required = 0;
    if (required != NULL && PyList_Check(required)) {
        if (!PyList_CheckExact(required))
            return NOT_COVERED;
        n_required = PyList_GET_SIZE(required);
        for (Py_ssize_t i = 0; i < n_required; i++)
            if (!is_plain_scalar(PyList_GET_ITEM(required, i)))
                return NOT_COVERED;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *props;
    int first = 1;
    while (PyDict_Next(properties, &pos, &key, &props)) {
        if (!is_plain_scalar(key))
            return NOT_COVERED;
        int pk = mapping_kind(props);
        if (pk == MAPPING_UNKNOWN)
            return NOT_COVERED;
        PyObject *fields[F_COUNT];
        if (pk == 1)
            TRY(read_fields(f->k, props, SCHEMA_KEYS, F_COUNT, fields));
        PyObject *description = pk == 1 ? fields[F_DESCRIPTION] : NULL;
        if (description != NULL) {
            if (!is_plain_scalar(description))
                return NOT_COVERED;
            int truthy = PyObject_IsTrue(description);
            if (truthy < 0)
                return FAILED;
            if (truthy) {
                if (!first)
                    TRY(emit_c(f, "\n"));
                first = 0;
                TRY(emit_pad(f, indent));
                TRY(emit_c(f, "// "));
                TRY(emit_format(f, description));
            }
        }
        int optional = 1;
        if (n_required > 0) {
            /* key in tuple(required): identity, then == */
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(required) && optional; i++) {
                int eq = rich_eq(PyList_GET_ITEM(required, i), key);
                if (eq < 0)
                    return FAILED;
                if (eq)
                    optional = 0;
            }
        }
        if (!first)
            TRY(emit_c(f, "\n"));
        first = 0;
        TRY(emit_pad(f, indent));
        TRY(emit_format(f, key));
        TRY(emit_c(f, optional ? "?: " : ": "));
        if (pk == 1)
            TRY(format_type_fields(f, fields, indent, depth + 1));
        else
            TRY(emit_c(f, "any"));
        TRY(emit_c(f, ","));
    }
    return COVERED;
}

static int
format_single(fmt_t *f, PyObject *function)
{
    PyObject *const *k = f->k;
    PyObject *fn[FN_COUNT];
    TRY(read_fields(k, function, FUNCTION_KEYS, FN_COUNT, fn));
    PyObject *name = fn[FN_NAME];
    if (name == NULL)
        return COVERED;
    if (!is_plain(name))
        return NOT_COVERED;
    int truthy = PyObject_IsTrue(name);
    if (truthy <= 0)
        return truthy < 0 ? FAILED : COVERED;
    if (!is_plain_scalar(name))
        return NOT_COVERED;
    PyObject *description = fn[FN_DESCRIPTION];
    int has_description = 0;
    if (description != NULL) {
        if (!is_plain(description))
            return NOT_COVERED;
        has_description = PyObject_IsTrue(description);
        if (has_description < 0)
            return FAILED;
        if (has_description && !is_plain_scalar(description))
            return NOT_COVERED;
    }
    PyObject *parameters = fn[FN_PARAMETERS];
    PyObject *params[F_COUNT] = {NULL};
    int has_properties = 0;
    if (parameters != NULL) {
        int pk = mapping_kind(parameters);
        if (pk == MAPPING_UNKNOWN)
            return NOT_COVERED;
        if (pk == 1) {
            TRY(read_fields(k, parameters, SCHEMA_KEYS, F_COUNT, params));
            PyObject *properties = params[F_PROPERTIES];
            if (properties != NULL) {
                int prk = mapping_kind(properties);
                if (prk == MAPPING_UNKNOWN)
                    return NOT_COVERED;
                has_properties = prk == 1 && PyDict_GET_SIZE(properties) > 0;
            }
        }
    }
    if (has_description) {
        TRY(emit_c(f, "\n// "));
        TRY(emit_format(f, description));
    }
    TRY(emit_c(f, "\ntype "));
    TRY(emit_format(f, name));
    if (has_properties) {
        TRY(emit_c(f, " = (_: {\n"));
        TRY(format_object_parameters(f, params[F_PROPERTIES], params[F_REQUIRED], 0, 0));
        TRY(emit_c(f, "\n}) => any;\n"));
    } else {
        TRY(emit_c(f, " = () => any;\n"));
    }
    return COVERED;
}

static int
format_tools(fmt_t *f, PyObject *tools)
{
    TRY(emit_c(f, "namespace functions {\n"));
    Py_ssize_t n = PySequence_Fast_GET_SIZE(tools);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tool = PySequence_Fast_GET_ITEM(tools, i);
        int mk = mapping_kind(tool);
        if (mk == MAPPING_UNKNOWN)
            return NOT_COVERED;
        if (mk == 0)
            continue;
        PyObject *function = get(tool, f->k[K_FUNCTION]);
        if (function == NULL && PyErr_Occurred())
            return FAILED;
        if (function == NULL || !PyDict_CheckExact(function))
            return NOT_COVERED; /* other tool styles: LiteLLM's own expansion, in Python */
        TRY(format_single(f, function));
    }
    return emit_c(f, "\n} // namespace functions");
}

static PyObject *
tc_format_tools(PyObject *module, PyObject *tools)
{
    if (!PyList_CheckExact(tools) && !PyTuple_CheckExact(tools))
        Py_RETURN_NONE;
    fmt_t f = {keys_of(module), NULL, 0, 0};
    Py_INCREF(tools);
    int r = format_tools(&f, tools);
    Py_DECREF(tools);
    PyObject *result = NULL;
    if (r == COVERED) {
        result = PyUnicode_DecodeUTF8(f.data ? f.data : "", (Py_ssize_t)f.len, "strict");
    } else if (r == NOT_COVERED) {
        Py_INCREF(Py_None);
        result = Py_None;
    }
    PyMem_Free(f.data);
    return result;
}

/* ---- plan validation ------------------------------------------------------ */

#define UNDECIDED 2

/* 1: model_cost still maps each key of `entries` (a tuple of (key, entry,
 * fields) as _python.py snapshots them) to the same entry object with the
 * same (litellm_provider, mode, supports_pdf_input); 0: not; UNDECIDED:
 * some shape is not an exact dict/tuple (the Python check decides);
 * FAILED: error set. */
static int
entries_current(PyObject *const *k, PyObject *model_cost, PyObject *entries)
{
    if (!PyDict_CheckExact(model_cost) || !PyTuple_CheckExact(entries))
        return UNDECIDED;
    static const int FIELDS[3] = {K_LITELLM_PROVIDER, K_MODE, K_SUPPORTS_PDF_INPUT};
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(entries); i++) {
        PyObject *item = PyTuple_GET_ITEM(entries, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 3)
            return UNDECIDED;
        PyObject *now = PyDict_GetItemWithError(model_cost, PyTuple_GET_ITEM(item, 0));
        if (now == NULL) {
            if (PyErr_Occurred())
                return FAILED;
            now = Py_None;
        }
        if (now != PyTuple_GET_ITEM(item, 1))
            return 0;
        PyObject *fields = PyTuple_GET_ITEM(item, 2);
        if (fields == Py_None)
            continue;
        if (!PyDict_CheckExact(now) || !PyTuple_CheckExact(fields) || PyTuple_GET_SIZE(fields) != 3)
            return UNDECIDED;
        for (int f = 0; f < 3; f++) {
            PyObject *value = PyDict_GetItemWithError(now, k[FIELDS[f]]);
            if (value == NULL) {
                if (PyErr_Occurred())
                    return FAILED;
                value = Py_None;
            }
            PyObject *was = PyTuple_GET_ITEM(fields, f);
            if (value == was)
                continue;
            if (!is_plain_scalar(value) || !is_plain_scalar(was))
                return UNDECIDED;
            int eq = PyObject_RichCompareBool(value, was, Py_EQ);
            if (eq < 0)
                return FAILED;
            if (!eq)
                return 0;
        }
    }
    return 1;
}

static PyObject *
decision(int r)
{
    if (r == FAILED)
        return NULL;
    if (r == UNDECIDED)
        Py_RETURN_NONE;
    return PyBool_FromLong(r);
}

/*
 * _tc_plan_current(litellm_dict, tables, sizes, entries) -> True | False | None
 * The whole per-call plan check in one call: each of LiteLLM's five model
 * tables, read from the litellm module's __dict__, is still the object in
 * `tables` with the size in `sizes`, and the cost-map entries are current
 * (entries_current).  None when a table is missing from the module dict
 * (module __getattr__ would run) or is not an exact dict/set, or a shape is
 * unusual: the Python check decides then.
 */
static PyObject *
tc_plan_current(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "_tc_plan_current(litellm_dict, tables, sizes, entries)");
        return NULL;
    }
    PyObject *const *k = keys_of(module);
    PyObject *names = args[0], *tables = args[1], *sizes = args[2];
    static const int TABLES[5] = {K_MODEL_COST, K_OPEN_AI_CHAT_COMPLETION_MODELS, K_AZURE_LLMS,
                                  K_ANTHROPIC_MODELS, K_COHERE_MODELS};
    if (!PyDict_CheckExact(names) || !PyTuple_CheckExact(tables) || PyTuple_GET_SIZE(tables) != 5 ||
        !PyTuple_CheckExact(sizes) || PyTuple_GET_SIZE(sizes) != 5)
        Py_RETURN_NONE;
    for (int i = 0; i < 5; i++) {
        PyObject *now = PyDict_GetItemWithError(names, k[TABLES[i]]);
        if (now == NULL) {
            if (PyErr_Occurred())
                return NULL;
            Py_RETURN_NONE;
        }
        if (now != PyTuple_GET_ITEM(tables, i))
            Py_RETURN_FALSE;
        Py_ssize_t len;
        if (PyDict_CheckExact(now))
            len = PyDict_GET_SIZE(now);
        else if (PyAnySet_CheckExact(now))
            len = PySet_GET_SIZE(now);
        else
            Py_RETURN_NONE;
        PyObject *was = PyTuple_GET_ITEM(sizes, i);
        if (!PyLong_CheckExact(was))
            Py_RETURN_NONE;
        Py_ssize_t was_len = PyLong_AsSsize_t(was);
        if (was_len == -1 && PyErr_Occurred())
            return NULL;
        if (len != was_len)
            Py_RETURN_FALSE;
    }
    return decision(entries_current(k, PyTuple_GET_ITEM(tables, 0), args[3]));
}

/* ---- chunked count --------------------------------------------------------- */

/*
 * _tc_count_chunks(text, raw, raw_batch, chunk) -> int | None
 * LiteLLM's exact count of `text`: the sum of the ordinary counts of its
 * `chunk`-character slices (one raw(text, None, None) call when it fits in
 * one slice, else one raw_batch(slices, None, None, 1) call).  None when
 * the tokenizer cannot take the text as UTF-8 (lone surrogates): the Python
 * count repairs those as tiktoken does.
 */
static PyObject *
tc_count_chunks(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4 || !PyUnicode_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "_tc_count_chunks(text: str, raw, raw_batch, chunk)");
        return NULL;
    }
    PyObject *text = args[0];
    Py_ssize_t chunk = PyLong_AsSsize_t(args[3]);
    if (chunk == -1 && PyErr_Occurred())
        return NULL;
    if (chunk <= 0) {
        PyErr_SetString(PyExc_ValueError, "chunk must be positive");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0)
        return PyLong_FromLong(0);
    PyObject *result;
    if (n <= chunk) {
        PyObject *call_args[3] = {text, Py_None, Py_None};
        result = PyObject_Vectorcall(args[1], call_args, 3, NULL);
    } else {
        Py_ssize_t pieces = (n - 1) / chunk + 1;
        PyObject *slices = PyTuple_New(pieces);
        if (slices == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < pieces; i++) {
            Py_ssize_t start = i * chunk;
            PyObject *piece = PyUnicode_Substring(text, start, start + chunk < n ? start + chunk : n);
            if (piece == NULL) {
                Py_DECREF(slices);
                return NULL;
            }
            PyTuple_SET_ITEM(slices, i, piece);
        }
        PyObject *call_args[4] = {slices, Py_None, Py_None, NULL};
        call_args[3] = PyLong_FromLong(1);
        if (call_args[3] == NULL) {
            Py_DECREF(slices);
            return NULL;
        }
        PyObject *counts = PyObject_Vectorcall(args[2], call_args, 4, NULL);
        Py_DECREF(call_args[3]);
        Py_DECREF(slices);
        if (counts == NULL || !PyList_CheckExact(counts)) {
            result = counts;
        } else {
            long long total = 0;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(counts); i++) {
                long long c = PyLong_AsLongLong(PyList_GET_ITEM(counts, i));
                if (c == -1 && PyErr_Occurred()) {
                    Py_DECREF(counts);
                    return NULL;
                }
                total += c;
            }
            Py_DECREF(counts);
            result = PyLong_FromLongLong(total);
        }
    }
    if (result == NULL && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return result;
}

static PyMethodDef TC_METHODS[] = {
    {"_tc_plan_current", (PyCFunction)(void (*)(void))tc_plan_current, METH_FASTCALL,
     "_tc_plan_current(litellm_dict, tables, sizes, entries) -> True | False | None"},
    {"_tc_count_chunks", (PyCFunction)(void (*)(void))tc_count_chunks, METH_FASTCALL,
     "_tc_count_chunks(text, raw, raw_batch, chunk) -> LiteLLM's chunked exact count | None"},
    {"_tc_walk_messages", (PyCFunction)(void (*)(void))tc_walk_messages, METH_FASTCALL,
     "_tc_walk_messages(messages, count, per_message, per_name[, raw_count, chunk]) -> (tokens, has_system) | None"},
    {"_tc_format_tools", (PyCFunction)tc_format_tools, METH_O,
     "_tc_format_tools(tools) -> LiteLLM's function-definitions text | None"},
    {NULL, NULL, 0, NULL},
};

int
fl_bind_token_counter(PyObject *module)
{
    PyObject *keys = PyTuple_New(K_COUNT);
    if (keys == NULL)
        return -1;
    for (int i = 0; i < K_COUNT; i++) {
        PyObject *s = PyUnicode_InternFromString(KEY_TEXT[i]);
        if (s == NULL) {
            Py_DECREF(keys);
            return -1;
        }
        PyTuple_SET_ITEM(keys, i, s);
    }
    fl_state_set(module, FL_SLOT_TOKEN_COUNTER, keys);
    Py_DECREF(keys);
    return PyModule_AddFunctions(module, TC_METHODS);
}
