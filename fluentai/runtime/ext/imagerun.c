/* `_fluentai_image`: what a warm `fluentai run` needs to run a program image (fluentai/image.py),
 * as a CPython extension module, so that the start-up does not import ctypes (3 to 4 ms, a tenth
 * of a warm run of a small program). Built by fluentai/runtime/build.py beside the runtime
 * library, against the limited API (one build serves every CPython from 3.11). Without it (no
 * Python headers), image.py uses ctypes as before (docs/decisions.md, "Start-up" 15).
 *
 *     load(runtime_path, image_path) -> bool   dlopen both (the runtime global), find the entry
 *     init()                                   fl_rt_init, once per process
 *     run(argv) -> int                         the program's exit status (the GIL released)
 *     interrupt()                              Ctrl-C: ask the running image to unwind
 *     rescue()                                 a second Ctrl-C: write the buffered output
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

typedef void (*rt_fn)(void);
typedef int64_t (*main_fn)(int64_t, char **);

static struct {
    rt_fn init, attach, detach, interrupt, rescue;
    main_fn main;
} image;

static int find(void *lib, const char *name, void *out) {
    void *p = dlsym(lib, name);
    if (p == NULL) return 0;
    *(void **)out = p;
    return 1;
}

static PyObject *load(PyObject *self, PyObject *args) {
    const char *runtime_path, *image_path;
    if (!PyArg_ParseTuple(args, "yy", &runtime_path, &image_path)) return NULL;
    void *rt = dlopen(runtime_path, RTLD_NOW | RTLD_GLOBAL);
    if (rt == NULL) Py_RETURN_FALSE;
    void *unit = dlopen(image_path, RTLD_NOW);
    if (unit == NULL) Py_RETURN_FALSE;
    int ok = find(rt, "fl_rt_init", &image.init) && find(rt, "fl_rt_thread_attach", &image.attach)
             && find(rt, "fl_rt_thread_detach", &image.detach)
             && find(rt, "fl_rt_interrupt", &image.interrupt)
             && find(rt, "fl_out_rescue", &image.rescue) && find(unit, "fl_program_main", &image.main);
    if (!ok) image.main = NULL;
    return PyBool_FromLong(ok);
}

static PyObject *init(PyObject *self, PyObject *unused) {
    if (image.init != NULL) image.init();
    Py_RETURN_NONE;
}

static PyObject *run(PyObject *self, PyObject *args) {
    PyObject *list;
    if (!PyArg_ParseTuple(args, "O!", &PyList_Type, &list)) return NULL;
    if (image.main == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no program image loaded");
        return NULL;
    }
    Py_ssize_t n = PyList_Size(list);
    char **argv = calloc((size_t)n + 1, sizeof(char *));
    if (argv == NULL) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        argv[i] = PyBytes_AsString(PyList_GetItem(list, i)); /* borrowed: the list holds them */
        if (argv[i] == NULL) {
            free(argv);
            return NULL;
        }
    }
    int64_t status;
    Py_BEGIN_ALLOW_THREADS
    image.attach();
    status = image.main((int64_t)n, argv);
    image.detach();
    Py_END_ALLOW_THREADS
    free(argv);
    return PyLong_FromLongLong((long long)status);
}

static PyObject *interrupt(PyObject *self, PyObject *unused) {
    if (image.interrupt != NULL) image.interrupt();
    Py_RETURN_NONE;
}

static PyObject *rescue(PyObject *self, PyObject *unused) {
    if (image.rescue != NULL) image.rescue();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"load", load, METH_VARARGS, "load(runtime_path, image_path): dlopen both; whether usable"},
    {"init", init, METH_NOARGS, "initialize the runtime (once per process)"},
    {"run", run, METH_VARARGS, "run(argv): run the image's program; its exit status"},
    {"interrupt", interrupt, METH_NOARGS, "ask the running image to unwind (Ctrl-C)"},
    {"rescue", rescue, METH_NOARGS, "write what the image's output buffers hold"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fluentai_image", "Runs a FluentAI program image.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fluentai_image(void) { return PyModule_Create(&module); }
