/*
 * test_install.c - what an expert author gets from `meson install`: the
 * header, libnmapi.so and nmapi.pc are enough to build the template expert
 * with its own Makefile, and the result runs in the broker.
 *
 * The build tree is installed into a temporary DESTDIR; pkg-config is told to
 * relocate the package there (--define-prefix), so nothing is installed on
 * the machine.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char destdir[] = "/tmp/es-install-XXXXXX";

/* ES_PREFIX: the build's prefix (set by tests/meson.build). */

static const char *env_or_skip(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v && *v, "%s is not set (run through meson test)", name);
    return v;
}

/* Runs a shell command line, returns its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(template_builds_from_the_installed_package)
{
    const char *build = env_or_skip("ES_BUILD_DIR");
    const char *source = env_or_skip("ES_SOURCE_DIR");
    const char *sample = env_or_skip("ES_SAMPLE_PCAP");
    ck_assert_ptr_nonnull(mkdtemp(destdir));

    ck_assert_int_eq(run("meson install -C '%s' --no-rebuild --quiet --destdir '%s' >/dev/null", build, destdir),
                     0);
    /* The .pc file, wherever libdir put it. */
    ck_assert_int_eq(run("pc=$(find '%s' -name nmapi.pc | head -n1) && test -n \"$pc\" && "
                         "echo \"$(dirname \"$pc\")\" > '%s/pcdir'",
                         destdir, destdir),
                     0);
    char pcdir[1024] = "";
    char path[1100];
    snprintf(path, sizeof path, "%s/pcdir", destdir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(pcdir, sizeof pcdir, f));
    fclose(f);
    pcdir[strcspn(pcdir, "\n")] = '\0';

    /* The author's way: copy the template, make, with only pkg-config. */
    ck_assert_int_eq(run("cp -r '%s/experts/template' '%s/work'", source, destdir), 0);
    /* The package says prefix=/usr/local; here it lives under DESTDIR. */
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "%s%s", destdir, getenv("ES_PREFIX") ? getenv("ES_PREFIX") : "/usr/local");
    ck_assert_int_eq(run("cd '%s/work' && export PKG_CONFIG_PATH='%s' && "
                         "make -s NMAPI_CFLAGS=\"$(pkg-config --define-variable=prefix='%s' --cflags nmapi)\" "
                         "NMAPI_LIBS=\"$(pkg-config --define-variable=prefix='%s' --libs nmapi)\"",
                         destdir, pcdir, prefix, prefix),
                     0);
    /* Built against the installed header: it runs in the broker of the build. */
    ck_assert_int_eq(run("'%s/broker/expert-broker' run -r '%s' -e '%s/work/template.so' -q "
                         "| grep -q '\"outcome\":\"done\"'",
                         build, sample, destdir),
                     0);
    run("rm -rf '%s'", destdir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("install");
    TCase *tc = tcase_create("package");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, template_builds_from_the_installed_package);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
