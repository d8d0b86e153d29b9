/* placeholder: implemented by the fxc module work */
