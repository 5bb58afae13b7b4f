/*
 * sealkit SM2 PKCS#11 test token: token.conf, presets and object files.
 *
 * Everything is plain text so that a test (or a person) can read and edit it:
 * token.conf is "key=value" lines, an object file "<name>.obj" is
 *     class=0x3
 *     attr.0x3=<hex of CKA_LABEL>
 *     pkcs8=<hex of the PKCS#8 DER private key>      (private keys only, IN CLEAR)
 * All writes go to a temporary file that is renamed over the target.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "tt.h"

const unsigned char TT_SM2_EC_PARAMS[10] = {0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d};

void tt_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sealkit-testtoken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- small helpers ------------------------------------------------------- */

void tt_hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

long tt_unhex(const char *in, unsigned char **out)
{
    size_t n = strlen(in);
    unsigned char *buf;
    if (n % 2)
        return -1;
    buf = malloc(n / 2 + 1);
    if (buf == NULL)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(buf);
            return -1;
        }
        buf[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = buf;
    return (long)(n / 2);
}

int tt_write_atomic(const char *path, const void *data, size_t len)
{
    static unsigned long counter;
    char tmp[4200];
    const char *p = data;
    int fd;

    snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%lu", path, (long)getpid(), ++counter);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Read a whole file, NUL-terminated. */
static char *read_file(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t cap = 0, len = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - len < 4097) {
            char *nb = realloc(buf, cap ? cap * 2 : 8192);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (lenp)
        *lenp = len;
    return buf;
}

/* Split the next line off *cursor (modifies the buffer), trimming blanks. */
static char *next_line(char **cursor)
{
    char *s = *cursor, *e;
    if (s == NULL || *s == '\0')
        return NULL;
    e = strchr(s, '\n');
    if (e) {
        *e = '\0';
        *cursor = e + 1;
    } else {
        *cursor = s + strlen(s);
    }
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Split "key = value" in place. Returns 0, or -1 when there is no '='. */
static int split_kv(char *line, char **k, char **v)
{
    char *eq = strchr(line, '='), *e;
    if (eq == NULL)
        return -1;
    *eq = '\0';
    e = eq;
    while (e > line && isspace((unsigned char)e[-1]))
        *--e = '\0';
    *k = line;
    *v = eq + 1;
    while (isspace((unsigned char)**v))
        (*v)++;
    return 0;
}

/* ---- token.conf ---------------------------------------------------------- */

typedef struct {
    const char *name;
    CK_KEY_TYPE key_type;
    CK_MECHANISM_TYPE keygen, with_z, digest, decrypt, sm3;
    int raw_z, raw_digest, cipher;
} tt_preset;

/* Vendor mechanism sets, see README.md for their sources and caveats. */
static const tt_preset PRESETS[] = {
    /* Sansec swpkcs11.h (TASS similar): CKM_SM3_SM2 returns r||s (its _DER twin is 0x80008101),
     * CKM_SM2_SIGN returns DER (its NO_DER twin is 0x80008105), SM2_RAW decrypt takes C1C3C2. */
    {"sansec", 0x80000004UL, 0x80008001UL, 0x80008100UL, 0x80008104UL, 0x80008200UL, 0x80009001UL, 1, 0,
     TT_CIPHER_C1C3C2},
    /* Thales Luna: SM2DSA (over e) and SM3_SM2DSA (with Z) return r||s; no SM2 decryption. */
    {"luna", 0x80000016UL, 0x80000B20UL, 0x80000B22UL, 0x80000B21UL, 0, 0x80000B01UL, 1, 1, TT_CIPHER_DER},
    /* IBM EP11: SM2 (over e), SM2_SM3 (with Z) return r||s; SM2_ENCRYPT also decrypts. */
    {"ep11", 0x80050002UL, 0x8005000AUL, 0x8005000CUL, 0x8005000BUL, 0x8005000DUL, 0, 1, 1, TT_CIPHER_DER},
};

static const tt_preset *find_preset(const char *name)
{
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (strcmp(PRESETS[i].name, name) == 0)
            return &PRESETS[i];
    return NULL;
}

static int parse_ulong(const char *v, unsigned long *out)
{
    char *end;
    if (*v == '\0' || *v == '-')
        return -1;
    errno = 0;
    *out = strtoul(v, &end, 0);
    return (errno || *end) ? -1 : 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"))
        *out = 1;
    else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !*v)
        *out = 0;
    else
        return -1;
    return 0;
}

static int parse_sig_format(const char *v, int *raw)
{
    if (!strcmp(v, "der"))
        *raw = 0;
    else if (!strcmp(v, "raw"))
        *raw = 1;
    else
        return -1;
    return 0;
}

static int parse_pin_hash(const char *v, unsigned char out[32])
{
    unsigned char *b = NULL;
    long n = tt_unhex(v, &b);
    if (n != 32) {
        free(b);
        return -1;
    }
    memcpy(out, b, 32);
    free(b);
    return 0;
}

/* Copy, truncating to the field (token labels etc. are fixed-size in PKCS#11). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Apply one key. Returns 0, or -1 for an unknown key or a bad value. */
static int conf_set(tt_conf *c, const char *k, const char *v)
{
    unsigned long u;
#define ULONG_KEY(name, field)                                                                               \
    if (!strcmp(k, name)) {                                                                                  \
        if (parse_ulong(v, &u))                                                                              \
            return -1;                                                                                       \
        c->field = u;                                                                                        \
        return 0;                                                                                            \
    }
#define INT_KEY(name, field)                                                                                 \
    if (!strcmp(k, name)) {                                                                                  \
        if (parse_ulong(v, &u) || u > 1000000)                                                               \
            return -1;                                                                                       \
        c->field = (int)u;                                                                                   \
        return 0;                                                                                            \
    }
#define BOOL_KEY(name, field)                                                                                \
    if (!strcmp(k, name))                                                                                    \
        return parse_bool(v, &c->field);

    if (!strcmp(k, "preset"))
        return 0; /* applied before the other keys */
    if (!strcmp(k, "label"))
        return copy_str(c->label, sizeof c->label, v), 0;
    if (!strcmp(k, "serial"))
        return copy_str(c->serial, sizeof c->serial, v), 0;
    if (!strcmp(k, "manufacturer"))
        return copy_str(c->manufacturer, sizeof c->manufacturer, v), 0;
    if (!strcmp(k, "model"))
        return copy_str(c->model, sizeof c->model, v), 0;
    if (!strcmp(k, "user_pin")) {
        c->has_user_pin = 1;
        tt_sha256(v, strlen(v), c->user_pin_hash);
        return 0;
    }
    if (!strcmp(k, "so_pin")) {
        c->has_so_pin = 1;
        tt_sha256(v, strlen(v), c->so_pin_hash);
        return 0;
    }
    if (!strcmp(k, "user_pin_sha256"))
        return c->has_user_pin = 1, parse_pin_hash(v, c->user_pin_hash);
    if (!strcmp(k, "so_pin_sha256"))
        return c->has_so_pin = 1, parse_pin_hash(v, c->so_pin_hash);
    INT_KEY("max_pin_tries", max_pin_tries)
    INT_KEY("user_pin_failures", user_pin_failures)
    INT_KEY("so_pin_failures", so_pin_failures)
    BOOL_KEY("removed", removed)
    BOOL_KEY("protected_auth", protected_auth)
    BOOL_KEY("always_authenticate", always_authenticate)
    if (!strcmp(k, "sig_format"))
        return parse_sig_format(v, &c->sig_raw_with_z) || parse_sig_format(v, &c->sig_raw_digest);
    if (!strcmp(k, "sig_format_with_z"))
        return parse_sig_format(v, &c->sig_raw_with_z);
    if (!strcmp(k, "sig_format_digest"))
        return parse_sig_format(v, &c->sig_raw_digest);
    if (!strcmp(k, "cipher_format")) {
        if (!strcmp(v, "der"))
            c->cipher_format = TT_CIPHER_DER;
        else if (!strcmp(v, "c1c3c2"))
            c->cipher_format = TT_CIPHER_C1C3C2;
        else if (!strcmp(v, "c1c2c3"))
            c->cipher_format = TT_CIPHER_C1C2C3;
        else
            return -1;
        return 0;
    }
    ULONG_KEY("key_type", key_type)
    ULONG_KEY("keygen_mech", keygen_mech)
    ULONG_KEY("sign_mech_with_z", sign_mech_with_z)
    ULONG_KEY("sign_mech_digest", sign_mech_digest)
    ULONG_KEY("decrypt_mech", decrypt_mech)
    ULONG_KEY("sm3_mech", sm3_mech)
    return -1;
#undef ULONG_KEY
#undef INT_KEY
#undef BOOL_KEY
}

int tt_conf_load(const char *path, tt_conf *c, char *err, size_t errlen)
{
    char *text = read_file(path, NULL), *copy, *cur, *line, *k, *v;
    const char *preset = "sansec";
    const tt_preset *p;
    int lineno = 0, rc = -1;
    unsigned char h[32];
    char hx[65];

    if (text == NULL) {
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    copy = strdup(text);
    if (copy == NULL) {
        free(text);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Pass 1: the preset sets the defaults that the other keys override. */
    cur = copy;
    while ((line = next_line(&cur)) != NULL)
        if (*line != '#' && split_kv(line, &k, &v) == 0 && !strcmp(k, "preset"))
            preset = v;
    p = find_preset(preset);
    if (p == NULL) {
        snprintf(err, errlen, "%s: unknown preset '%s' (sansec, luna, ep11)", path, preset);
        goto out;
    }
    memset(c, 0, sizeof *c);
    copy_str(c->preset, sizeof c->preset, p->name);
    copy_str(c->label, sizeof c->label, "SEALKIT TEST");
    copy_str(c->manufacturer, sizeof c->manufacturer, "sealkit test token");
    snprintf(c->model, sizeof c->model, "SM2 %s", p->name);
    tt_sha256(path, strlen(path), h);
    tt_hex(h, 8, hx);
    copy_str(c->serial, sizeof c->serial, hx);
    c->max_pin_tries = 3;
    c->key_type = p->key_type;
    c->keygen_mech = p->keygen;
    c->sign_mech_with_z = p->with_z;
    c->sign_mech_digest = p->digest;
    c->decrypt_mech = p->decrypt;
    c->sm3_mech = p->sm3;
    c->sig_raw_with_z = p->raw_z;
    c->sig_raw_digest = p->raw_digest;
    c->cipher_format = p->cipher;

    /* Pass 2: every other key. */
    cur = text;
    while ((line = next_line(&cur)) != NULL) {
        lineno++;
        if (*line == '\0' || *line == '#')
            continue;
        if (split_kv(line, &k, &v) != 0 || conf_set(c, k, v) != 0) {
            snprintf(err, errlen, "%s:%d: unknown key or bad value: %s", path, lineno, line);
            goto out;
        }
    }
    rc = 0;
out:
    free(copy);
    free(text);
    return rc;
}

int tt_conf_update(const char *path, const char *const *keys, const char *const *vals, size_t n)
{
    char *text = read_file(path, NULL), *cur, *out, *raw;
    size_t cap, len = 0;
    int rc;

    if (text == NULL)
        return -1;
    cap = strlen(text) + 256;
    for (size_t i = 0; i < n; i++)
        cap += strlen(keys[i]) + (vals[i] ? strlen(vals[i]) : 0) + 2;
    out = malloc(cap);
    if (out == NULL) {
        free(text);
        return -1;
    }
    /* Copy every line except those of the keys being replaced. */
    cur = text;
    while (*cur) {
        char *nl = strchr(cur, '\n'), *k = cur;
        size_t ll = nl ? (size_t)(nl - cur) : strlen(cur);
        int drop = 0;
        raw = cur;
        cur += ll + (nl ? 1 : 0);
        while (k < raw + ll && isspace((unsigned char)*k))
            k++;
        for (size_t i = 0; i < n && !drop; i++) {
            size_t kl = strlen(keys[i]);
            const char *after = k + kl;
            if ((size_t)(raw + ll - k) >= kl && !strncmp(k, keys[i], kl)) {
                while (after < raw + ll && (*after == ' ' || *after == '\t'))
                    after++;
                drop = after < raw + ll && *after == '=';
            }
        }
        if (!drop) {
            memcpy(out + len, raw, ll);
            len += ll;
            out[len++] = '\n';
        }
    }
    for (size_t i = 0; i < n; i++)
        if (vals[i])
            len += (size_t)sprintf(out + len, "%s=%s\n", keys[i], vals[i]);
    rc = tt_write_atomic(path, out, len);
    free(out);
    free(text);
    return rc;
}

/* ---- objects ------------------------------------------------------------- */

tt_attr *tt_attr_find(const tt_object *o, CK_ATTRIBUTE_TYPE t)
{
    for (size_t i = 0; i < o->nattrs; i++)
        if (o->attrs[i].type == t)
            return &o->attrs[i];
    return NULL;
}

int tt_attr_set(tt_object *o, CK_ATTRIBUTE_TYPE t, const void *val, CK_ULONG len)
{
    tt_attr *a = tt_attr_find(o, t);
    unsigned char *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return -1;
    if (len)
        memcpy(copy, val, len);
    if (a == NULL) {
        tt_attr *na = realloc(o->attrs, (o->nattrs + 1) * sizeof *na);
        if (na == NULL) {
            free(copy);
            return -1;
        }
        o->attrs = na;
        a = &o->attrs[o->nattrs++];
        a->type = t;
    } else {
        free(a->val);
    }
    a->val = copy;
    a->len = len;
    return 0;
}

int tt_attr_set_bool(tt_object *o, CK_ATTRIBUTE_TYPE t, CK_BBOOL v)
{
    return tt_attr_set(o, t, &v, sizeof v);
}

int tt_attr_set_ulong(tt_object *o, CK_ATTRIBUTE_TYPE t, CK_ULONG v)
{
    return tt_attr_set(o, t, &v, sizeof v);
}

int tt_attr_default_bool(tt_object *o, CK_ATTRIBUTE_TYPE t, CK_BBOOL v)
{
    return tt_attr_find(o, t) ? 0 : tt_attr_set_bool(o, t, v);
}

int tt_attr_bool(const tt_object *o, CK_ATTRIBUTE_TYPE t, int dflt)
{
    const tt_attr *a = tt_attr_find(o, t);
    return (a && a->len == 1) ? a->val[0] != 0 : dflt;
}

void tt_object_free(tt_object *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->nattrs; i++)
        free(o->attrs[i].val);
    free(o->attrs);
    EVP_PKEY_free(o->pkey);
    free(o);
}

int tt_object_save(const char *dir, tt_object *o)
{
    unsigned char *p8 = NULL;
    size_t p8len = 0, cap = 256, len = 0;
    char *buf, path[4200];
    int rc;

    if (o->file[0] == '\0') {
        unsigned char rnd[8];
        char hx[17];
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return -1;
        tt_hex(rnd, sizeof rnd, hx);
        snprintf(o->file, sizeof o->file, "obj-%s.obj", hx);
    }
    if (o->pkey && tt_sm2_to_pkcs8(o->pkey, &p8, &p8len) != 0)
        return -1;
    for (size_t i = 0; i < o->nattrs; i++)
        cap += 40 + 2 * o->attrs[i].len;
    cap += 2 * p8len + 16;
    buf = malloc(cap);
    if (buf == NULL) {
        OPENSSL_free(p8);
        return -1;
    }
    len += (size_t)sprintf(buf, "# sealkit test token object. NOT SECURE: private keys are stored in clear.\n"
                                "class=0x%lx\n",
                           (unsigned long)o->cls);
    for (size_t i = 0; i < o->nattrs; i++) {
        len += (size_t)sprintf(buf + len, "attr.0x%lx=", (unsigned long)o->attrs[i].type);
        tt_hex(o->attrs[i].val, o->attrs[i].len, buf + len);
        len += 2 * o->attrs[i].len;
        buf[len++] = '\n';
    }
    if (p8) {
        len += (size_t)sprintf(buf + len, "pkcs8=");
        tt_hex(p8, p8len, buf + len);
        len += 2 * p8len;
        buf[len++] = '\n';
        OPENSSL_clear_free(p8, p8len);
    }
    snprintf(path, sizeof path, "%s/%s", dir, o->file);
    rc = tt_write_atomic(path, buf, len);
    free(buf);
    return rc;
}

static tt_object *object_parse(char *text, const char *name)
{
    tt_object *o = calloc(1, sizeof *o);
    char *cur = text, *line, *k, *v;
    unsigned long u;
    int have_class = 0;

    if (o == NULL)
        return NULL;
    while ((line = next_line(&cur)) != NULL) {
        unsigned char *b = NULL;
        long n;
        if (*line == '\0' || *line == '#')
            continue;
        if (split_kv(line, &k, &v) != 0)
            goto fail;
        if (!strcmp(k, "class")) {
            if (parse_ulong(v, &u))
                goto fail;
            o->cls = u;
            have_class = 1;
        } else if (!strncmp(k, "attr.", 5)) {
            if (parse_ulong(k + 5, &u) || (n = tt_unhex(v, &b)) < 0)
                goto fail;
            if (tt_attr_set(o, u, b, (CK_ULONG)n) != 0) {
                free(b);
                goto fail;
            }
            free(b);
        } else if (!strcmp(k, "pkcs8")) {
            if ((n = tt_unhex(v, &b)) < 0)
                goto fail;
            o->pkey = tt_sm2_from_pkcs8(b, (size_t)n);
            OPENSSL_cleanse(b, (size_t)n);
            free(b);
            if (!tt_sm2_is_sm2(o->pkey)) {
                tt_log("%s: pkcs8 is not an SM2 private key", name);
                goto fail;
            }
        } else {
            goto fail;
        }
    }
    if (!have_class || (o->cls == CKO_PRIVATE_KEY) != (o->pkey != NULL))
        goto fail;
    o->on_token = 1;
    copy_str(o->file, sizeof o->file, name);
    return o;
fail:
    tt_object_free(o);
    return NULL;
}

int tt_objects_load(const char *dir, tt_object **list)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int failed = 0;
    if (d == NULL)
        return 1;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[4200], *text;
        tt_object *o;
        if (n < 5 || n >= sizeof o->file || strcmp(e->d_name + n - 4, ".obj") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        text = read_file(path, NULL);
        o = text ? object_parse(text, e->d_name) : NULL;
        free(text);
        if (o == NULL) {
            tt_log("%s: cannot parse object file, skipped", path);
            failed++;
            continue;
        }
        o->next = *list;
        *list = o;
    }
    closedir(d);
    return failed;
}
