/* config_store.c - read and write stored expert configurations. */
#include "config_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire.h"

char *es_config_path(const char *dir, const char *expert_path)
{
    char base_dir[PATH_MAX];
    if (dir) {
        snprintf(base_dir, sizeof base_dir, "%s", dir);
    } else {
        const char *xdg = getenv("XDG_CONFIG_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(base_dir, sizeof base_dir, "%s/expert-sandbox", xdg);
        else if (home && *home)
            snprintf(base_dir, sizeof base_dir, "%s/.config/expert-sandbox", home);
        else
            return NULL;
    }
    const char *name = strrchr(expert_path, '/');
    name = name ? name + 1 : expert_path;
    size_t len = strlen(name);
    if (len > 3 && !strcmp(name + len - 3, ".so"))
        len -= 3;
    char *path = NULL;
    if (asprintf(&path, "%s/%.*s.config", base_dir, (int)len, name) < 0)
        return NULL;
    return path;
}

int es_config_read(const char *path, struct es_config_blob *blob, char *why, size_t whylen)
{
    blob->data = NULL;
    blob->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 4 || st.st_size > ES_MAX_CONFIG) {
        snprintf(why, whylen, "not a stored configuration (a file of 4 to %d bytes)", ES_MAX_CONFIG);
        close(fd);
        return -1;
    }
    blob->len = (size_t)st.st_size;
    blob->data = malloc(blob->len);
    ssize_t got = blob->data ? pread(fd, blob->data, blob->len, 0) : -1;
    close(fd);
    uint32_t declared = 0;
    if (got == (ssize_t)blob->len)
        memcpy(&declared, blob->data, sizeof declared);
    if (got != (ssize_t)blob->len || declared != blob->len) {
        snprintf(why, whylen, "not a stored configuration (RawConfigLength %u, file of %zu bytes)", declared,
                 blob->len);
        free(blob->data);
        blob->data = NULL;
        blob->len = 0;
        return -1;
    }
    return 0;
}

static int make_parent_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

int es_config_write(const char *path, const struct es_config_blob *blob, char *why, size_t whylen)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) {
        snprintf(why, whylen, "path too long");
        return -1;
    }
    if (make_parent_dirs(tmp) != 0) {
        snprintf(why, whylen, "cannot create its directory: %s", strerror(errno));
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, whylen, "cannot create: %s", strerror(errno));
        return -1;
    }
    ssize_t put = write(fd, blob->data, blob->len);
    int err = put == (ssize_t)blob->len ? 0 : (put < 0 ? errno : EIO);
    if (fsync(fd) != 0 && !err)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        unlink(tmp);
        snprintf(why, whylen, "cannot write: %s", strerror(err));
        return -1;
    }
    return 0;
}
