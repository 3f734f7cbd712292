/* Writing a file as a whole without following symlinks: the content goes to a
 * new temp file beside the target (O_CREAT|O_EXCL|O_NOFOLLOW) and is renamed
 * over the name when complete, so a symlink planted at the name is replaced,
 * never written through, and readers never see half a file. */
#ifndef AH_FILE_H
#define AH_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Creates a new empty file ".NAME.XXXXXX" in dir (mode 0644 less the umask)
 * and opens it for writing; its path goes to tmp. name is a plain file name
 * (no '/'). Returns the fd (close-on-exec) or a negative errno. */
int ah_file_tmp_open(const char *dir, const char *name, char *tmp, size_t tmplen);

/* Renames tmp (from ah_file_tmp_open) to dir/name, replacing whatever entry
 * is there (a symlink is replaced, not followed; a directory is an error).
 * On failure tmp is removed. Returns 0 or a negative errno. */
int ah_file_commit(const char *tmp, const char *dir, const char *name);

/* Moves the regular file from (not followed if it is a symlink) to dir/name:
 * renamed when both are on one file system, else copied into a temp file of
 * dir that is then committed, and from removed. Returns 0 or a negative
 * errno (from is then left as it was). */
int ah_file_move(const char *from, const char *dir, const char *name);

/* Copies everything from the descriptor in to out (both open; neither is
 * closed). Returns 0 or a negative errno. */
int ah_file_copy_fd(int in, int out);

/* Opens path for writing, creating it (mode 0644 less the umask) with
 * O_NOFOLLOW|O_CLOEXEC plus flags (O_TRUNC, O_APPEND, O_EXCL): for files
 * written in place, such as logs and configs a child reads while it runs. A
 * symlink at path is refused (-ELOOP). Returns the fd or a negative errno. */
int ah_file_create(const char *path, int flags);

/* The same as a stdio stream opened "w" (truncated). Returns NULL with errno
 * set on failure. */
FILE *ah_file_fopen_w(const char *path);

#endif
