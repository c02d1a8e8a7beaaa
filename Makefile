# igniter - build, test, demo, bench.
#
#   make            build build/igniter
#   make demo       plan and simulate the paper's published example (V100)
#   make test       build and run the whole test suite
#   make test SAN=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      planning and simulation benchmarks (numbers in README.md)
#   make figures    every experiment's comparison and figures (results/)
#   make fig11 / fig17 / fig18 / fig21 / accuracy-cdf  one of the paper's
#                   other figures (results/paper-figs/; also made by
#                   make figures)
#   make figures-commit  copy them into experiments/figures/
#   make deps       install the Debian packages the build needs
#   make fuzz       every parser's libFuzzer harness (fuzz/), FUZZ_SECONDS each
#   make fuzz-smoke the same for 10 s each (CI)
#   make capture    build/igniter-capture, the CUDA capture tool, and
#                   build/libigniter-gpu.so, the GPU side of `igniter serve`
#                   (needs nvcc, cuDNN, cuBLAS, CUPTI; see capture/README.md)
#
# Every component is one folder with one public header; its .c files are
# picked up by wildcard, so a new file needs no Makefile edit.

CC      ?= cc
SAN     ?= 0
OPT     ?= -O2
WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla \
          -Wno-format-truncation
CPPFLAGS += -I. -D_POSIX_C_SOURCE=200809L
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 $(WARN)
LDLIBS  = -lglpk -lgsl -lgslcblas -lcjson -lm -ldl

ifeq ($(SAN),1)
BUILD   = build-san
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD   = build
endif

COMPONENTS = util model traces policies capture frontend sim serve lab
LIB_SRCS = $(foreach c,$(COMPONENTS),$(wildcard $(c)/*.c))
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_SRCS = $(filter-out cli/igniter_mpi.c,$(wildcard cli/*.c))
CLI_OBJS = $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_SRCS = $(wildcard tests/test_*.c)
TEST_BINS = $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
BENCH_SRCS = $(wildcard tests/bench_*.c)
BENCH_BINS = $(BENCH_SRCS:tests/%.c=$(BUILD)/tests/%)

IGNITER = $(BUILD)/igniter
# `mpirun -n P build/igniter-mpi SWEEP.json --out DIR`: built only where
# mpicc exists (Debian: libopenmpi-dev), and not under the sanitizers (MPI's
# own allocations would read as leaks); nothing else needs MPI.
MPICC   ?= mpicc
IGNITER_MPI = $(if $(filter 0,$(SAN)),$(if $(shell command -v $(MPICC) \
                2>/dev/null),$(BUILD)/igniter-mpi))
DEPS_STAMP = build/.deps-ok

.PHONY: all demo test bench figures figures-commit deps clean check-deps \
        capture fig11 fig17 fig18 fig21 accuracy-cdf

all: $(IGNITER) $(IGNITER_MPI)

# Installs missing Debian packages once (scripts/install-deps.sh checks
# first and does nothing when everything is there).
$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p build
	@sh scripts/install-deps.sh
	@touch $@

deps:
	@sh scripts/install-deps.sh

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# The commit goes into one object, rebuilt when HEAD moves (a commit, a
# checkout) and recorded in every summary.json.
IGNITER_COMMIT ?= $(shell git describe --always --dirty 2>/dev/null || \
                    echo unknown)
$(BUILD)/util/version.o: $(wildcard .git/logs/HEAD .git/HEAD)
$(BUILD)/util/version.o: CPPFLAGS += -DIGNITER_COMMIT='"$(IGNITER_COMMIT)"'

$(BUILD)/libigniter.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(IGNITER): $(CLI_OBJS) $(BUILD)/libigniter.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libigniter.a $(LDLIBS)

$(BUILD)/igniter-mpi: cli/igniter_mpi.c $(BUILD)/libigniter.a
	$(MPICC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(BUILD)/libigniter.a \
	    $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libigniter.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(BUILD)/libigniter.a \
	    $(LDFLAGS) $(LDLIBS) -lcmocka

demo: $(IGNITER)
	@$(IGNITER) sim experiments/paper-example.json --out results/demo

test: $(IGNITER) $(IGNITER_MPI) $(TEST_BINS)
	@sh tests/run.sh $(BUILD)

# One core (taskset when present), each benchmark in turn, then the same
# M/D/1 queue in SimPy (Debian python3-simpy, installed on demand).
bench: $(IGNITER) $(BENCH_BINS)
	@sh scripts/install-deps.sh bench
	@pin=""; command -v taskset >/dev/null && pin="taskset -c 0"; \
	for b in $(BENCH_BINS); do $$pin $$b || exit 1; echo; done; \
	$$pin /usr/bin/python3 scripts/simpy_md1.py 300000; echo; \
	sh scripts/bench-compare.sh $(IGNITER); echo; \
	IGNITER=$(IGNITER) sh scripts/bench-sweep.sh 200

# Every figure of experiments/ into results/ (scripts/figures.sh; needs
# gnuplot); figures-commit copies them into experiments/figures/.
figures: $(IGNITER) $(BUILD)/tests/bench_plan
	@sh scripts/figures.sh $(IGNITER) 2
	@sh scripts/paper-figs.sh $(IGNITER) all

# The paper's figures that are not a comparison, one command each
# (scripts/paper-figs.sh; results/paper-figs/figNN/: data, PNG, SVG):
# 11 (with 12 and 13) iGniter's model against measured V100 latency, 17
# the safeguard at run time, 18 shares per workload per policy, 21
# planning time against the number of workloads (timed here, now);
# accuracy-cdf the error of every latency predictor on held-out data of
# each GPU.
fig11 fig17 fig18 accuracy-cdf: $(IGNITER)
	@sh scripts/paper-figs.sh $(IGNITER) $@

fig21: $(IGNITER) $(BUILD)/tests/bench_plan
	@sh scripts/paper-figs.sh $(IGNITER) $@

figures-commit:
	@sh scripts/figures.sh $(IGNITER) 2 commit

# ---- the capture tool (CUDA; not part of `all`, `test` or CI) -------------
# Only the CPU files it needs are compiled here, without the Debian
# dependency stamp: the GPU machine may have no network. Override
# CUDA_HOME, CUDNN_HOME (a folder with include/cudnn.h and lib/), CJSON_HOME
# (a folder with include/cjson/ and lib/) and CUDA_ARCH as needed.
# CUDA_ARCH defaults to the first GPU's own (nvidia-smi's compute_cap:
# 8.0 -> sm_80), or sm_90 on a machine without one; asked for once, and
# only when a CUDA file is built (not by make or make test).
NVCC      ?= $(CUDA_HOME)/bin/nvcc
CUDA_HOME ?= /usr/local/cuda
gpu_cc     = $(shell nvidia-smi --query-gpu=compute_cap --format=csv,noheader \
                 2>/dev/null | head -1 | tr -d '. \r' | grep -x '[0-9][0-9]*[a-z]*')
ifeq ($(origin CUDA_ARCH),undefined)
CUDA_ARCH  = $(eval CUDA_ARCH := sm_$(or $(gpu_cc),90))$(CUDA_ARCH)
endif
CUDNN_HOME ?=
CJSON_HOME ?=
CAP_INC   = $(if $(CUDNN_HOME),-I$(CUDNN_HOME)/include) \
            $(if $(CJSON_HOME),-I$(CJSON_HOME)/include)
CAP_LIBDIRS = $(foreach d,$(CUDNN_HOME) $(CJSON_HOME),-L$(d)/lib \
              -Xlinker -rpath=$(d)/lib) -L$(CUDA_HOME)/lib64 \
              -L$(CUDA_HOME)/extras/CUPTI/lib64
CAP_CPU   = util/util.c capture/graph.c capture/derive.c capture/mps.c \
            capture/record.c
CAP_CU    = $(wildcard capture/*.cu) cli/igniter_capture.cu
CAP_OBJS  = $(CAP_CPU:%.c=$(BUILD)/cap/%.o) $(CAP_CU:%.cu=$(BUILD)/cap/%.o)
CAPTURE   = $(BUILD)/igniter-capture
# the library `igniter serve` loads: the same objects less the CLI, plus
# serve's GPU device (serve/gpu.cu, which igniter-capture does not need)
GPULIB    = $(BUILD)/libigniter-gpu.so
GPULIB_OBJS = $(filter-out $(BUILD)/cap/cli/%,$(CAP_OBJS)) \
              $(BUILD)/cap/serve/gpu.o
CAP_LIBS  = -lcudnn -lcublasLt -lcublas -lcupti -lcuda -lcjson -lm -ldl -lpthread

capture: $(CAPTURE) $(GPULIB)

$(BUILD)/cap/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CAP_INC) $(CFLAGS) -fPIC -MMD -MP -c $< -o $@

# -MMD -MP -MF: nvcc writes the headers an object includes into its .d
# (included below), so a header edit rebuilds the objects that include it
# and only those.
$(BUILD)/cap/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) -std=c++17 -arch=$(CUDA_ARCH) -O2 -g $(CPPFLAGS) $(CAP_INC) \
	    -Xcompiler -fPIC,-Wall,-Wextra,-Wno-missing-field-initializers \
	    -MMD -MP -MF $(@:.o=.d) -c $< -o $@

$(CAPTURE): $(CAP_OBJS)
	$(NVCC) -arch=$(CUDA_ARCH) -Xlinker -export-dynamic -o $@ $(CAP_OBJS) \
	    $(CAP_LIBDIRS) $(CAP_LIBS)

$(GPULIB): $(GPULIB_OBJS)
	$(NVCC) -shared -arch=$(CUDA_ARCH) -o $@ $(GPULIB_OBJS) $(CAP_LIBDIRS) \
	    $(CAP_LIBS)

-include $(sort $(CAP_OBJS:.o=.d) $(GPULIB_OBJS:.o=.d))

# ---- fuzzing (clang's libFuzzer; not part of `all` or `test`) -------------
#   make fuzz         every harness fuzz/fuzz_NAME.c for FUZZ_SECONDS (60)
#   make fuzz-smoke   each for 10 s (what CI runs); says it skips, and
#                     succeeds, where clang's libFuzzer runtime is missing
# The library's objects are built again with clang, with the fuzzer's
# coverage and ASan + UBSan, into build-fuzz/. fuzz/run.sh runs each
# harness on its seed corpus fuzz/corpus/NAME/ (read only) and dictionary
# fuzz/NAME.dict; new inputs go to build-fuzz/corpus/NAME/, findings to
# build-fuzz/crashes/ (neither committed). fuzz/README.md says what each
# harness checks and what the long runs covered.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   = build-fuzz
FUZZ_CFLAGS  = -std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -DFUZZ_ROOT='"$(CURDIR)"'
FUZZ_COMPONENTS = util model traces policies frontend lab capture
FUZZ_LIB_OBJS = $(patsubst %.c,$(FUZZ_BUILD)/%.o,\
                  $(foreach c,$(FUZZ_COMPONENTS),$(wildcard $(c)/*.c)))
FUZZ_BINS = $(patsubst fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard fuzz/fuzz_*.c))

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-clean

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP \
	    -c $< -o $@

$(FUZZ_BUILD)/libigniter.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_BUILD)/libigniter.a
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_BUILD)/libigniter.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz:
	@sh scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory -j2 fuzz-build
	@sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_BINS)

fuzz-smoke:
	@if sh fuzz/run.sh --check $(FUZZ_CC); then \
	    $(MAKE) --no-print-directory -j2 fuzz-build && \
	    sh fuzz/run.sh $(FUZZ_BUILD) 10 $(FUZZ_BINS); \
	else \
	    echo "fuzz-smoke: skipped: $(FUZZ_CC) cannot link -fsanitize=fuzzer" \
	         "(Debian: clang libclang-rt-dev; sh scripts/install-deps.sh fuzz)"; \
	fi

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(FUZZ_LIB_OBJS:.o=.d)

clean:
	rm -rf build build-san

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_BINS:=.d) $(BUILD)/igniter-mpi.d
