#pragma once
#include "ricci/tensor.h"
