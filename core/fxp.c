/* placeholder: implemented by the fxp module work */
